// Text files embedded with `import x from "./file.conf" with { type: "text" }`, or `.sh` (kept in compiled binaries).
declare module "*.conf" {
  const text: string;
  export default text;
}
declare module "*.sh" {
  const text: string;
  export default text;
}
