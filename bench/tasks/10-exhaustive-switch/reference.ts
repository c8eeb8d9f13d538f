export type Status = "draft" | "published" | "archived";

export function statusLabel(status: Status): string {
  switch (status) {
    case "draft":
      return "Draft";
    case "published":
      return "Published";
    case "archived":
      return "Archived";
  }
}
