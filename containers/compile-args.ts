/**
 * `bun build --compile` arguments of our executables, shared by build.ts and the inference-proxy image hook: one
 * list of flags, so a proxy compiled for an image is byte for byte the `dist/bin/inference-proxy` of the same commit.
 */
export function compileArgs(o: { entry: string; outfile: string; sha: string; extra?: string[] }): string[] {
  return [
    "build",
    "--compile",
    "--bytecode",
    "--format=esm",
    "--minify-syntax",
    "--minify-whitespace",
    `--define=CYNODE_GIT_SHA=${JSON.stringify(o.sha)}`,
    o.entry,
    ...(o.extra ?? []),
    "--outfile",
    o.outfile,
  ];
}
