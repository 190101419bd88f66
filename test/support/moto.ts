// One moto_server per test file: `const moto = useMoto()` inside a describe (or at top level)
// starts it on a free loopback port before the tests, and stops it after.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll } from "vitest";
import { toolPath } from "../../scripts/tools.ts";

export interface MotoServer {
  /** http://127.0.0.1:<port> — pass as the endpoint override of every AWS client. */
  endpoint: string;
  port: number;
  /** Clears all state (moto's /moto-api/reset) so a test starts from nothing. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface MotoOptions {
  /** Extra environment for the server, e.g. { MOTO_ECS_SERVICE_RUNNING: "2" }. */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/** Fake credentials and region for code under test; moto accepts any. */
export const MOTO_CREDENTIALS = {
  accessKeyId: "testing",
  secretAccessKey: "testing",
  sessionToken: "testing",
};
export const MOTO_REGION = "eu-west-1";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** moto_server from .tools/bin (npm run setup:tools) or PATH; MOTO_SERVER overrides. */
function motoBinary(): string {
  return process.env.MOTO_SERVER ?? toolPath("moto_server");
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  log: () => string,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${log()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms:\n${log()}`);
}

export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let output = "";
  const child = spawn(motoBinary(), ["-H", "127.0.0.1", "-p", String(port)], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once("error", (error) =>
      reject(
        new Error(`cannot start moto_server (${error.message}); install it with: pip install "moto[server]"`),
      ),
    ),
  );
  await Promise.race([
    waitUntilAnswering(endpoint, child, options.startTimeoutMs ?? 30_000, () => output),
    spawnFailed,
  ]);
  return {
    endpoint,
    port,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    },
  };
}

/**
 * Starts moto before the tests of the current file (or describe block) and stops it after.
 * Read `.endpoint` inside tests or hooks, not at module load.
 */
export function useMoto(options: MotoOptions = {}): MotoServer {
  let server: MotoServer | undefined;
  const handle: MotoServer = {
    get endpoint() {
      if (!server) throw new Error("moto is not started yet: read .endpoint inside a test or hook");
      return server.endpoint;
    },
    get port() {
      if (!server) throw new Error("moto is not started yet");
      return server.port;
    },
    reset: () => server!.reset(),
    stop: () => server?.stop() ?? Promise.resolve(),
  };
  beforeAll(async () => {
    server = await startMoto(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return handle;
}
