// Text files embedded with `import x from "./file.conf" with { type: "text" }` (kept in compiled binaries).
declare module "*.conf" {
  const text: string;
  export default text;
}
