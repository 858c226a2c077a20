// A stylesheet imported for its effect (`import "./console.css"`): Bun's bundler emits it beside the script.
declare module "*.css";
