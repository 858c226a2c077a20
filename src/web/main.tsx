/** The web console's entry point (bundled by src/orchestrator/gateway/console-bundle.ts, served at `/`). */
import { render } from "preact";
import { App } from "./app";
import "./console.css";

render(<App />, document.getElementById("app")!);
