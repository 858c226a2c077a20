/** The auth audit log: one row per auth event, never a password or token. */
import type { Db } from "./connect";

export type AuthEvent = {
  event:
    | "login_success"
    | "login_failure"
    | "refresh_success"
    | "refresh_failure"
    | "logout"
    | "session_revoked"
    | "user_created"
    | "user_disabled"
    | "user_enabled"
    | "password_reset"
    | "node_reset";
  success: boolean;
  userId?: string | null;
  handle?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  reason?: string | null;
};

export async function recordAuthEvent(db: Db, e: AuthEvent): Promise<void> {
  await db
    .insertInto("auth_audit_log")
    .values({
      id: crypto.randomUUID(),
      event_type: e.event,
      success: e.success,
      user_id: e.userId ?? null,
      subject_handle: e.handle ?? null,
      ip_address: e.ip ?? null,
      user_agent: e.userAgent?.slice(0, 512) ?? null,
      reason: e.reason ?? null,
    })
    .execute();
}
