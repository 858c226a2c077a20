/** The console's pages are addressed by the URL's fragment (`#/tasks/<id>`): one HTML page, no server-side routes. */
import { useEffect, useState } from "preact/hooks";

export type Page =
  | { name: "tasks" }
  | { name: "new-task" }
  | { name: "task"; id: string }
  | { name: "chat" }
  | { name: "users" }
  | { name: "nodes" }
  | { name: "skills" };

export function parseHash(hash: string): Page {
  const [, first, second] = hash.replace(/^#/, "").split("/");
  if (first === "tasks" && second === "new") return { name: "new-task" };
  if (first === "tasks" && second) return { name: "task", id: decodeURIComponent(second) };
  if (first === "chat" || first === "users" || first === "nodes" || first === "skills") return { name: first };
  return { name: "tasks" };
}

export const hrefOf = (page: Page): string =>
  page.name === "task"
    ? `#/tasks/${encodeURIComponent(page.id)}`
    : page.name === "new-task"
      ? "#/tasks/new"
      : `#/${page.name}`;

export function useHashPage(): Page {
  const [page, setPage] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setPage(parseHash(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return page;
}
