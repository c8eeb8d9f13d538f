export function parseUser(json: string): any {
  const data = JSON.parse(json);
  return data;
}
