export interface CounterState {
  count: number;
}

export function counterReducer(state: CounterState, action: any): CounterState {
  if (action.type === "increment") return { count: state.count + action.by };
  if (action.type === "decrement") return { count: state.count - action.by };
  return state;
}
