// Files of containers/ embedded with `with { type: "text" }` (kept in compiled binaries); they have no extension.
declare module "*/Containerfile" {
  const text: string;
  export default text;
}
declare module "*/cynode-prompt" {
  const text: string;
  export default text;
}
