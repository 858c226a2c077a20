/** Access log middleware: one line per request with method, path, status and duration; never headers or bodies. */
import type { MiddlewareHandler } from "hono";
import type { Logger } from "./log";
import { clientAddress } from "./client-address";

export function accessLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      remote_addr: clientAddress(c),
    });
  };
}
