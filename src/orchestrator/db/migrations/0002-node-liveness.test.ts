import { columnsPresent, describeDownAndUp } from "../../../testing/schema-present";
import * as migration from "./0002-node-liveness";

const LIVENESS_COLUMNS = ["excluded_node_ids", "lost_at", "not_before", "suspect_since"];

describeDownAndUp(
  "migration 0002-node-liveness",
  "adds the liveness columns, and down removes them again",
  migration,
  (db) => columnsPresent(db, undefined, LIVENESS_COLUMNS),
  LIVENESS_COLUMNS,
);
