export interface NameProps {
  first: string;
  last: string;
}

export function useFullName({ first, last }: NameProps): string {
  return `${first} ${last}`;
}
