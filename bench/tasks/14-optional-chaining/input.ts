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
  const unit = customer.address.unit.length > 0 ? ` #${customer.address.unit}` : "";
  return `${customer.name}, ${customer.address.street}${unit}, ${customer.address.city}`;
}
