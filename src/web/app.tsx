/** The console's frame: the log-in page until a session exists, then the navigation and the page the URL names. */
import { useMemo, useState } from "preact/hooks";
import { createGatewaySession, type GatewaySession } from "./gateway-session";
import { hrefOf, type Page, useHashPage } from "./hash-route";
import { ChatPage } from "./pages/chat";
import { LoginPage } from "./pages/login";
import { NewTaskPage } from "./pages/new-task";
import { NodesPage } from "./pages/nodes";
import { SkillsPage } from "./pages/skills";
import { TaskDetailPage } from "./pages/task-detail";
import { TasksPage } from "./pages/tasks";
import { UsersPage } from "./pages/users";

const NAV: { page: Page; label: string }[] = [
  { page: { name: "tasks" }, label: "Tasks" },
  { page: { name: "new-task" }, label: "New task" },
  { page: { name: "chat" }, label: "Chat" },
  { page: { name: "skills" }, label: "Skills" },
  { page: { name: "nodes" }, label: "Nodes" },
  { page: { name: "users" }, label: "Users" },
];

function Shown({ page, session }: { page: Page; session: GatewaySession }) {
  switch (page.name) {
    case "new-task":
      return <NewTaskPage session={session} />;
    case "task":
      return <TaskDetailPage session={session} id={page.id} />;
    case "chat":
      return <ChatPage session={session} />;
    case "skills":
      return <SkillsPage session={session} />;
    case "nodes":
      return <NodesPage session={session} />;
    case "users":
      return <UsersPage session={session} />;
    default:
      return <TasksPage session={session} />;
  }
}

export function App() {
  const [signedIn, setSignedIn] = useState(false);
  const session = useMemo(() => createGatewaySession(setSignedIn), []);
  const page = useHashPage();
  if (!signedIn)
    return (
      <main>
        <LoginPage session={session} />
      </main>
    );
  return (
    <>
      <header>
        <nav aria-label="Console">
          {NAV.map((n) => (
            <a href={hrefOf(n.page)} aria-current={n.page.name === page.name ? "page" : undefined}>
              {n.label}
            </a>
          ))}
          <button type="button" class="link" onClick={() => void session.logout()}>
            Log out
          </button>
        </nav>
      </header>
      <main>
        <Shown page={page} session={session} />
      </main>
    </>
  );
}
