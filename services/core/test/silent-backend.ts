// A test backend for deadlines: it accepts TCP connections, reads what it is sent and never answers,
// as a hung S3 or SQS endpoint (or a black-holed VPC endpoint) does.
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";

export interface SilentBackend {
  url: string;
  /** Connections accepted so far. */
  accepted(): number;
  /** Connections still open. */
  open(): number;
  close(): Promise<void>;
}

/** A backend that accepts TCP connections, reads what it is sent and never answers. */
export async function startSilentBackend(): Promise<SilentBackend> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.resume();
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    accepted: () => accepted,
    open: () => sockets.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The number of connections still open once the client side has had a moment to close them. */
export async function settleOpen(backend: SilentBackend): Promise<number> {
  for (let i = 0; i < 100 && backend.open() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return backend.open();
}
