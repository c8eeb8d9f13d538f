export interface Todo {
  id: number;
  title: string;
  done: boolean;
}

export interface TodoState {
  items: Todo[];
  nextId: number;
}

export type TodoAction =
  | { type: "add"; title: string }
  | { type: "toggle"; id: number }
  | { type: "remove"; id: number };

export function todosReducer(state: TodoState, action: TodoAction): TodoState {
  switch (action.type) {
    case "add":
      return {
        items: [...state.items, { id: state.nextId, title: action.title, done: false }],
        nextId: state.nextId + 1,
      };
    case "toggle":
      return {
        ...state,
        items: state.items.map((t) => (t.id === action.id ? { ...t, done: !t.done } : t)),
      };
    case "remove":
      return { ...state, items: state.items.filter((t) => t.id !== action.id) };
  }
}
