/** Node JWT middleware for the control-plane: a user's token (wrong token_type) is refused like a bad one. */
import type { MiddlewareHandler } from "hono";
import { NODE_ERRORS } from "../../contracts/node-payloads";
import { ProblemError } from "../../lib/http-problem";
import { bearerToken, type TokenClaims, type Tokens } from "../auth/tokens";

export type NodeAuthEnv = { Variables: { node: TokenClaims & { node_id: string; node_slug: string } } };

export function requireNode(tokens: Tokens): MiddlewareHandler<NodeAuthEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (!header) throw new ProblemError(401, NODE_ERRORS.missingAuth);
    const token = bearerToken(header);
    const claims = token ? await tokens.verify(token, "node") : undefined;
    if (!claims?.node_id || !claims.node_slug) throw new ProblemError(401, NODE_ERRORS.badToken);
    c.set("node", { ...claims, node_id: claims.node_id, node_slug: claims.node_slug });
    await next();
  };
}
