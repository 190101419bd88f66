// Process control for the ingest-cost bench: which core each process gets, the emulator process,
// the two servers and the worker, their CPU time, and stopping them.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { API_NODE_OPTIONS } from "@content-engine/api";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import { freePort } from "../../test/support/moto.ts";
import type { EmulatorAnswer, EmulatorReady, EmulatorRequest } from "../emulator-process.ts";
import { API_KEY, BUCKET, REGION, type ServerName, TENANT } from "./setup.ts";

const EMULATOR = join(repoRoot, "bench", "emulator-process.ts");
const WORKER_MAIN = join(repoRoot, "services", "worker", "src", "consumer-main.ts");

/** `taskset -c <cores> …` when the machine has cores to split, else the command as is. */
export function pinned(cores: string | undefined, command: string, args: string[]): [string, string[]] {
  return cores ? ["taskset", ["-c", cores, command, ...args]] : [command, args];
}

/** The tool, or undefined when neither .tools/bin nor PATH has it. */
function findTool(name: string): string | undefined {
  try {
    return toolPath(name);
  } catch {
    return undefined;
  }
}

export interface CoreSplit {
  /** The core the servers run on. */
  server: string | undefined;
  /** The cores of the emulator, the counting proxy and wrk. */
  load: string | undefined;
  note: string;
}

export function coreSplit(): CoreSplit {
  const n = availableParallelism();
  if (n < 2 || !findTool("taskset"))
    return { server: undefined, load: undefined, note: "not pinned: fewer than 2 cores or no taskset" };
  const load = n === 2 ? "0" : `0-${n - 2}`;
  return {
    server: String(n - 1),
    load,
    note: `server pinned to core ${n - 1}; emulator, counting proxy and wrk on core(s) ${load}`,
  };
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  await Promise.race([once(child, "exit"), sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

/** Clock ticks of user + system CPU the process (all its threads) has used so far. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "pid (comm) ": state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

export const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface Emulator {
  child: ChildProcess;
  /** The emulator itself. */
  direct: string;
  /** The counting proxy in front of it. */
  proxy: string;
  /** The proxy's calls and the TCP connections opened to it since the last reset. */
  calls(): Promise<EmulatorAnswer>;
  reset(): Promise<void>;
}

export async function startEmulator(cores: string | undefined): Promise<Emulator> {
  const [command, args] = pinned(cores, process.execPath, [EMULATOR]);
  const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = await new Promise<EmulatorReady>((resolve, reject) => {
    child.once("message", (m: EmulatorReady) => resolve(m));
    child.once("exit", (code) => reject(new Error(`the emulator process exited with code ${code}`)));
  });
  const ask = (request: EmulatorRequest) =>
    new Promise<EmulatorAnswer>((resolve) => {
      child.once("message", (m: EmulatorAnswer) => resolve(m));
      child.send(request);
    });
  return {
    child,
    direct: ready.emulator,
    proxy: ready.proxy,
    calls: () => ask({ cmd: "calls" }),
    reset: async () => {
      await ask({ cmd: "reset" });
    },
  };
}

/** The environment the API, the reference and the worker share: local credentials, one bucket and queue. */
function awsEnvironment(awsEndpoint: string, queueUrl: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL: awsEndpoint,
    CONTENT_ENGINE_BUCKET: BUCKET,
    CONTENT_ENGINE_QUEUE_URL: queueUrl,
    HOST: "127.0.0.1",
  };
}

export interface Server {
  child: ChildProcess;
  url: string;
}

async function waitHealthy(child: ChildProcess, url: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: ${output()}`);
    const ok = await fetch(`${url}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`the server at ${url} did not become healthy within 60 s: ${output()}`);
}

export interface ServerSetup {
  name: ServerName;
  apiBundle: string;
  python: string;
}

export async function startServer(
  setup: ServerSetup,
  awsEndpoint: string,
  queueUrl: string,
  cores: string | undefined,
): Promise<Server> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...awsEnvironment(awsEndpoint, queueUrl),
    HOME: process.env.HOME ?? tmpdir(),
    AWS_DEFAULT_REGION: REGION,
    CONTENT_ENGINE_API_KEYS: `${API_KEY}:${TENANT}`,
    PORT: String(port),
  };
  // content-engine as its image runs it (services/api/Dockerfile): the bundle, NODE_ENV and
  // NODE_OPTIONS of the image, default log level. The reference as `uvicorn app:app` with its
  // defaults (uvloop + httptools from uvicorn[standard], access log on).
  const [command, args] =
    setup.name === "content-engine"
      ? pinned(cores, process.execPath, [setup.apiBundle])
      : pinned(cores, setup.python, [
          "-m",
          "uvicorn",
          "app:app",
          "--app-dir",
          join(repoRoot, "bench", "reference"),
          "--host",
          "127.0.0.1",
          "--port",
          String(port),
        ]);
  // No __pycache__ next to the committed app.
  if (setup.name === "fastapi") env.PYTHONDONTWRITEBYTECODE = "1";
  if (setup.name === "content-engine")
    Object.assign(env, { NODE_ENV: "production", NODE_OPTIONS: API_NODE_OPTIONS });
  const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  const stderr: string[] = [];
  child.stderr!.on("data", (d: Buffer) => {
    stderr.push(d.toString("utf8"));
    if (stderr.length > 200) stderr.shift();
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(child, url, () => stderr.join("").slice(-2000));
  return { child, url };
}

/** The queue consumer from source, unpinned, warnings only on stderr. */
export function startWorker(awsEndpoint: string, queueUrl: string): ChildProcess {
  return spawn(process.execPath, [WORKER_MAIN], {
    env: { ...awsEnvironment(awsEndpoint, queueUrl), WORKER_METRICS_PORT: "0", LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
}
