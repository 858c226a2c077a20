/** A TCP port on 127.0.0.1 that was free a moment ago: for a service that must know its URL before it listens. */
export function freePort(): number {
  const socket = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: () => {} } });
  const { port } = socket;
  socket.stop(true);
  return port;
}
