import { useCallback, useReducer } from "./mini-react";

export interface CartItem {
  id: string;
  price: number;
  qty: number;
}

export type CartAction =
  | { type: "add"; id: string; price: number }
  | { type: "remove"; id: string }
  | { type: "setQty"; id: string; qty: number }
  | { type: "clear" };

export function cartReducer(state: CartItem[], action: CartAction): CartItem[] {
  switch (action.type) {
    case "add": {
      if (!state.some((i) => i.id === action.id)) {
        return [...state, { id: action.id, price: action.price, qty: 1 }];
      }
      return state.map((i) => (i.id === action.id ? { ...i, qty: i.qty + 1 } : i));
    }
    case "remove":
      return state.some((i) => i.id === action.id) ? state.filter((i) => i.id !== action.id) : state;
    case "setQty": {
      if (!state.some((i) => i.id === action.id)) return state;
      if (action.qty <= 0) return state.filter((i) => i.id !== action.id);
      return state.map((i) => (i.id === action.id ? { ...i, qty: action.qty } : i));
    }
    case "clear":
      return state.length === 0 ? state : [];
  }
}

export interface Cart {
  items: CartItem[];
  total: number;
  add: (id: string, price: number) => void;
  remove: (id: string) => void;
  setQty: (id: string, qty: number) => void;
  clear: () => void;
}

export function useCart(): Cart {
  const [items, dispatch] = useReducer(cartReducer, []);
  const add = useCallback((id: string, price: number) => dispatch({ type: "add", id, price }), [dispatch]);
  const remove = useCallback((id: string) => dispatch({ type: "remove", id }), [dispatch]);
  const setQty = useCallback((id: string, qty: number) => dispatch({ type: "setQty", id, qty }), [dispatch]);
  const clear = useCallback(() => dispatch({ type: "clear" }), [dispatch]);
  return { items, total: items.reduce((sum, i) => sum + i.price * i.qty, 0), add, remove, setQty, clear };
}
