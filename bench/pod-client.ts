/**
 * Runs inside a container of the inference pod (no network): the same requests straight to the upstream's Unix
 * socket (mounted in) vs through the inference-proxy sidecar on 127.0.0.1:11434. Prints the samples as JSON.
 * bun pod-client.ts <upstream socket> <rounds>
 */
import { measurePaths, tcp, unixSocket } from "./inference-load";

const [socket, rounds = "3"] = process.argv.slice(2);
const proxied = tcp("http://127.0.0.1:11434");
for (let i = 0; ; i++) {
  const ok = await proxied("/api/version", {}).then(
    (r) => r.ok,
    () => false,
  );
  if (ok) break;
  if (i > 200) throw new Error("the inference-proxy sidecar did not answer on 127.0.0.1:11434");
  await Bun.sleep(50);
}
console.log(JSON.stringify(await measurePaths(unixSocket(socket!), proxied, Number(rounds), 200)));
