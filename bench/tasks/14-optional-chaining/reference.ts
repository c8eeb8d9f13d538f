export interface Address {
  street: string;
  unit?: string;
  city: string;
}

export interface Customer {
  name: string;
  address?: Address;
}

export function shippingLabel(customer: Customer): string {
  const address = customer.address;
  if (!address) return "NO ADDRESS";
  const unit = address.unit ? ` #${address.unit}` : "";
  return `${customer.name}, ${address.street}${unit}, ${address.city}`;
}
