import { useReducer } from "./mini-react";

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
      const item = state.find((i) => i.id === action.id);
      if (item) item.qty++;
      else state.push({ id: action.id, price: action.price, qty: 1 });
      return state;
    }
    case "remove":
      return state.filter((i) => i.id !== action.id);
    case "setQty": {
      const item = state.find((i) => i.id === action.id);
      if (item) item.qty = action.qty;
      return state;
    }
    case "clear":
      return [];
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
  return {
    items,
    total: items.reduce((sum, i) => sum + i.price * i.qty, 0),
    add: (id, price) => dispatch({ type: "add", id, price }),
    remove: (id) => dispatch({ type: "remove", id }),
    setQty: (id, qty) => dispatch({ type: "setQty", id, qty }),
    clear: () => dispatch({ type: "clear" }),
  };
}
