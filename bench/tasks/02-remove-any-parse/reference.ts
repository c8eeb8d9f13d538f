export interface User {
  id: number;
  name: string;
  email: string | null;
}

export function parseUser(json: string): User {
  const data: unknown = JSON.parse(json);
  if (typeof data !== "object" || data === null) throw new Error("user must be an object");
  const rec = data as Record<string, unknown>;
  if (typeof rec.id !== "number") throw new Error("user.id must be a number");
  if (typeof rec.name !== "string") throw new Error("user.name must be a string");
  const email = rec.email ?? null;
  if (email !== null && typeof email !== "string") throw new Error("user.email must be a string");
  return { id: rec.id, name: rec.name, email };
}
