export function area(shape: any): number {
  if (shape.kind === "circle") return Math.PI * shape.radius ** 2;
  return shape.side * shape.side;
}
