import { describeDownAndUp, tablesPresent } from "../../../testing/schema-present";
import * as migration from "./0010-chat-agent";

const TABLES = [
  "chat_messages",
  "chat_threads",
  "chat_tool_calls",
  "skills",
  "task_workflow_leases",
  "workflow_checkpoints",
];

describeDownAndUp(
  "migration 0010-chat-agent",
  "creates the chat agent's tables, and down removes them again",
  migration,
  (db) => tablesPresent(db, TABLES),
  TABLES,
);
