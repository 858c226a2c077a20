/** Version string: package.json version plus the git sha that build.ts bakes in (`dev` from source). */
import pkg from "../../package.json" with { type: "json" };

declare const CYNODE_GIT_SHA: string | undefined;
const sha = typeof CYNODE_GIT_SHA === "string" ? CYNODE_GIT_SHA : "dev";

export const VERSION = `${pkg.version}+${sha}`;
