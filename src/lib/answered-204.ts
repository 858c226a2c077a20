/** The handlers of a JSON request answered with an empty 204: documented, validated, then carried out by `act`. */
import type { Context, Env, MiddlewareHandler } from "hono";
import type { Factory } from "hono/factory";
import type { BaseIssue, GenericSchema, InferOutput } from "valibot";
import { validated } from "./validate";

export function answered204<E extends Env, S extends GenericSchema>(
  factory: Factory<E>,
  doc: MiddlewareHandler,
  body: S,
  detail: string | ((issues: BaseIssue<unknown>[]) => string),
  act: (c: Context<E>, req: InferOutput<S>) => Promise<void>,
) {
  return factory.createHandlers(doc, validated("json", body, detail), async (c) => {
    // hono types the context its factory hands out with an env it derives from E; it is the same context.
    await act(c as unknown as Context<E>, c.req.valid("json"));
    return c.body(null, 204);
  });
}
