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
      state.items.push({ id: state.nextId, title: action.title, done: false });
      state.nextId++;
      return state;
    case "toggle": {
      const item = state.items.find((t) => t.id === action.id);
      if (item) item.done = !item.done;
      return state;
    }
    case "remove": {
      const index = state.items.findIndex((t) => t.id === action.id);
      if (index >= 0) state.items.splice(index, 1);
      return state;
    }
  }
}
