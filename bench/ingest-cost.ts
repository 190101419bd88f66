// Ingest cost, side by side with the seed's FastAPI + boto3 backend (issue 12):
//  - the server's own CPU ms per accepted 16 KiB multipart upload (/proc/<pid>/stat utime+stime),
//  - throughput and p50/p99 at concurrency 4 and 32 (wrk, the Debian package),
//  - AWS requests per job counted at a proxy in front of the emulator: ingest, worker, status reads.
// Both servers talk to the same fauxqs emulator. Each server runs pinned to its own core with taskset;
// the emulator and wrk share the other core(s).
// Run alone: `npm run bench -- ingest-cost` or `node bench/ingest-cost.ts` (writes bench/results/ingest-cost.json).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { API_NODE_OPTIONS } from "@content-engine/api";
import { createS3Client, createSqsClient } from "@content-engine/core";
import { toolPath } from "../scripts/tools.ts";
import { countOperations } from "../test/support/aws-proxy.ts";
import { freePort } from "../test/support/moto.ts";
import type { EmulatorAnswer, EmulatorReady, EmulatorRequest } from "./emulator-process.ts";
import {
  type BenchResult,
  type Histogram,
  KiB,
  type Metric,
  makeDocument,
  newAgent,
  parseHistogram,
  percentile,
  postDocument,
  report,
  round,
  runPool,
} from "./lib.ts";
import { bundleApi } from "./upload-memory.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TOOLS = join(ROOT, ".tools");
const VENV = join(TOOLS, "ingest-reference-venv");
const REQUIREMENTS = join(ROOT, "bench", "reference", "requirements.txt");
const WORKER_MAIN = join(ROOT, "services", "worker", "src", "consumer-main.ts");
const WRK_SCRIPT = join(ROOT, "bench", "wrk-upload.lua");
const EMULATOR = join(ROOT, "bench", "emulator-process.ts");
const API_KEY = "bench_ingest_cost_key_0001";
const TENANT = "bench";
const BUCKET = "content-engine-bench";
const BOUNDARY = "content-engine-bench-boundary-7d1f";
const REGION = "us-east-1";

export interface IngestCostOptions {
  /** Concurrencies measured with wrk (default 4 and 32). */
  concurrencies?: number[];
  /** Seconds of each measured wrk run (default 4), after one warm-up run of `warmupSeconds` (default 3). */
  seconds?: number;
  /** Rounds of runs, alternating between the servers (default 3). */
  rounds?: number;
  warmupSeconds?: number;
  /** Jobs sent through the counting proxy, then processed by the worker (default 40). */
  countedJobs?: number;
  docBytes?: number;
}

const SERVERS = ["content-engine", "fastapi"] as const;
type ServerName = (typeof SERVERS)[number];
const LABEL: Record<ServerName, string> = {
  "content-engine": "content-engine",
  fastapi: "FastAPI + boto3 reference",
};

// ---------------------------------------------------------------------------------------------
// Tools: wrk (Debian package, installed by `npm run setup:tools`) and the reference's venv, which
// this bench installs itself when missing (the pip_tool pattern of scripts/setup-tools.sh).

/** The tool, or undefined when neither .tools/bin nor PATH has it. */
function findTool(name: string): string | undefined {
  try {
    return toolPath(name);
  } catch {
    return undefined;
  }
}

/** `name==version` pins of the reference's requirements.txt (extras dropped). */
function pinnedRequirements(): Record<string, string> {
  const pins: Record<string, string> = {};
  for (const line of readFileSync(REQUIREMENTS, "utf8").split("\n")) {
    const m = /^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)/.exec(line.trim());
    if (m) pins[m[1]!] = m[2]!;
  }
  return pins;
}

function installedVersions(python: string, names: string[]): Record<string, string> {
  if (!existsSync(python)) return {};
  const code = `import importlib.metadata as m, json, sys\nout = {}\nfor n in sys.argv[1:]:\n  try: out[n] = m.version(n)\n  except Exception: pass\nprint(json.dumps(out))`;
  try {
    return JSON.parse(execFileSync(python, ["-c", code, ...names], { encoding: "utf8" })) as Record<
      string,
      string
    >;
  } catch {
    return {};
  }
}

/** The venv's python, installing the pinned requirements into .tools/ingest-reference-venv first if needed. */
export function ensureReferenceVenv(): string {
  const python = join(VENV, "bin", "python");
  const pins = pinnedRequirements();
  const have = installedVersions(python, Object.keys(pins));
  if (Object.entries(pins).every(([name, version]) => have[name] === version)) return python;
  const log = join(TOOLS, "logs", "ingest-reference.log");
  mkdirSync(join(TOOLS, "logs"), { recursive: true });
  process.stdout.write(`(installing the FastAPI reference into ${VENV}, log ${log}) `);
  try {
    execFileSync("python3", ["-m", "venv", VENV], { stdio: "ignore" });
    const out = execFileSync(
      join(VENV, "bin", "pip"),
      ["install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    writeFileSync(log, out);
  } catch (error) {
    const err = error as { stderr?: string; message: string };
    writeFileSync(log, err.stderr ?? err.message);
    throw new Error(`could not install the FastAPI reference (see ${log}): ${err.message}`);
  }
  return python;
}

// ---------------------------------------------------------------------------------------------
// Processes

/** `taskset -c <cores> …` when the machine has cores to split, else the command as is. */
function pinned(cores: string | undefined, command: string, args: string[]): [string, string[]] {
  return cores ? ["taskset", ["-c", cores, command, ...args]] : [command, args];
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  await Promise.race([once(child, "exit"), sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

/** Clock ticks of user + system CPU the process (all its threads) has used so far. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "pid (comm) ": state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Emulator {
  child: ChildProcess;
  /** The emulator itself. */
  direct: string;
  /** The counting proxy in front of it. */
  proxy: string;
  /** The proxy's calls and the TCP connections opened to it since the last reset. */
  calls(): Promise<EmulatorAnswer>;
  reset(): Promise<void>;
}

async function startEmulator(cores: string | undefined): Promise<Emulator> {
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

interface Server {
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

interface ServerSetup {
  name: ServerName;
  apiBundle: string;
  python: string;
}

async function startServer(
  setup: ServerSetup,
  awsEndpoint: string,
  queueUrl: string,
  cores: string | undefined,
): Promise<Server> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? tmpdir(),
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL: awsEndpoint,
    CONTENT_ENGINE_BUCKET: BUCKET,
    CONTENT_ENGINE_QUEUE_URL: queueUrl,
    CONTENT_ENGINE_API_KEYS: `${API_KEY}:${TENANT}`,
    PORT: String(port),
    HOST: "127.0.0.1",
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
          join(ROOT, "bench", "reference"),
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

// ---------------------------------------------------------------------------------------------
// Load: wrk, pinned next to the emulator

interface WrkRun {
  durationUs: number;
  requests: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { min: number; p50: number; p90: number; p99: number; max: number; mean: number };
}

async function runWrk(
  wrk: string,
  url: string,
  bodyFile: string,
  concurrency: number,
  seconds: number,
  cores: string | undefined,
): Promise<WrkRun> {
  const [command, args] = pinned(cores, wrk, [
    "-t1",
    `-c${concurrency}`,
    `-d${seconds}s`,
    "--timeout",
    "10s",
    "-s",
    WRK_SCRIPT,
    `${url}/v1/jobs`,
    "--",
    bodyFile,
    BOUNDARY,
    API_KEY,
  ]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  child.stderr!.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  const [code] = (await once(child, "exit")) as [number | null];
  const line = out.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${out.slice(-1000)}`);
  return JSON.parse(line.slice("WRK_JSON ".length)) as WrkRun;
}

interface LoadSample {
  accepted: number;
  failed: number;
  seconds: number;
  cpuMs: number;
  p50Ms: number;
  p99Ms: number;
  /** content-engine only: the API's own histogram of the accepted uploads during this run. */
  serverHistogram?: Histogram;
}

/**
 * POST /v1/jobs 2xx in the API's own request-duration histogram (`/metrics`): the time the server
 * itself took, from the request's arrival to its answer, without the load generator's scheduling.
 */
async function uploadLatency(url: string): Promise<Histogram> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return parseHistogram(text, "content_engine_http_request_duration_seconds", {
    method: "POST",
    route: "/v1/jobs",
    status: "2xx",
  });
}

/** Bucket by bucket, `a` minus `b` (`b` taken earlier), or plus when adding runs up. */
function combine(a: Histogram, b: Histogram | undefined, sign: 1 | -1): Histogram {
  const count = (le: number) => b?.buckets.find((x) => x.le === le)?.count ?? 0;
  return {
    buckets: a.buckets.map(({ le, count: n }) => ({ le, count: n + sign * count(le) })),
    sum: a.sum + sign * (b?.sum ?? 0),
    count: a.count + sign * (b?.count ?? 0),
  };
}

/** Share of the histogram's observations within `seconds` (a bucket bound). */
function shareWithin(hist: Histogram, seconds: number): number {
  const all = hist.buckets.at(-1)?.count ?? 0;
  return all > 0 ? (hist.buckets.find((x) => x.le === seconds)?.count ?? 0) / all : Number.NaN;
}

interface LoadPoint {
  concurrency: number;
  accepted: number;
  /** Requests that failed or were answered with a non-2xx status. */
  rejected: number;
  seconds: number;
  uploadsPerSecond: number;
  /** Medians over the rounds. */
  p50Ms: number;
  p99Ms: number;
  cpuMsPerUpload: number;
  /** content-engine only: share of the accepted uploads the API answered within 25 ms, by its own histogram. */
  serverWithin25ms?: number;
  /** Share of one core the server used. */
  cpuCores: number;
  rounds: LoadSample[];
}

async function loadSample(
  server: Server,
  wrk: string,
  bodyFile: string,
  concurrency: number,
  seconds: number,
  loadCores: string | undefined,
  withHistogram: boolean,
): Promise<LoadSample> {
  const pid = server.child.pid!;
  const latencyBefore = withHistogram ? await uploadLatency(server.url) : undefined;
  const before = cpuTicks(pid);
  const run = await runWrk(wrk, server.url, bodyFile, concurrency, seconds, loadCores);
  const cpuMs = ((cpuTicks(pid) - before) / TICKS_PER_SECOND) * 1000;
  const serverHistogram = latencyBefore
    ? combine(await uploadLatency(server.url), latencyBefore, -1)
    : undefined;
  const { status, connect, read, write, timeout } = run.errors;
  return {
    accepted: Math.max(0, run.requests - status),
    failed: status + connect + read + write + timeout,
    seconds: run.durationUs / 1e6,
    cpuMs,
    p50Ms: run.latencyUs.p50 / 1000,
    p99Ms: run.latencyUs.p99 / 1000,
    ...(serverHistogram ? { serverHistogram } : {}),
  };
}

const medianOf = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

function loadPoint(concurrency: number, rounds: LoadSample[]): LoadPoint {
  const sum = (f: (r: LoadSample) => number) => rounds.reduce((a, r) => a + f(r), 0);
  const accepted = sum((r) => r.accepted);
  const seconds = sum((r) => r.seconds);
  const cpuMs = sum((r) => r.cpuMs);
  const histograms = rounds.flatMap((r) => (r.serverHistogram ? [r.serverHistogram] : []));
  const server = histograms.reduce<Histogram | undefined>(
    (all, h) => (all ? combine(all, h, 1) : h),
    undefined,
  );
  return {
    ...(server ? { serverWithin25ms: shareWithin(server, 0.025) } : {}),
    concurrency,
    accepted,
    rejected: sum((r) => r.failed),
    seconds,
    uploadsPerSecond: accepted / seconds,
    p50Ms: medianOf(rounds.map((r) => r.p50Ms)),
    p99Ms: medianOf(rounds.map((r) => r.p99Ms)),
    cpuMsPerUpload: accepted > 0 ? cpuMs / accepted : Number.NaN,
    cpuCores: cpuMs / 1000 / seconds,
    rounds,
  };
}

/**
 * Both servers run at once on the server core, loaded one at a time, in short runs that alternate
 * between them round after round (the order flips each round): a burst of load from elsewhere on a
 * shared machine then lands on both alike, and the ratios hold better than in two long runs.
 */
async function measureLoad(
  servers: Record<ServerName, Server>,
  wrk: string,
  bodyFile: string,
  options: Required<IngestCostOptions>,
  loadCores: string | undefined,
): Promise<Record<ServerName, LoadPoint[]>> {
  const names = Object.keys(servers) as ServerName[];
  for (const name of names)
    await runWrk(wrk, servers[name].url, bodyFile, 4, options.warmupSeconds, loadCores);
  const samples = new Map<string, LoadSample[]>();
  for (let round = 0; round < options.rounds; round++) {
    for (const concurrency of options.concurrencies) {
      for (const name of round % 2 === 0 ? names : [...names].reverse()) {
        const key = `${name} ${concurrency}`;
        const sample = await loadSample(
          servers[name],
          wrk,
          bodyFile,
          concurrency,
          options.seconds,
          loadCores,
          name === "content-engine",
        );
        samples.set(key, [...(samples.get(key) ?? []), sample]);
      }
    }
  }
  const points = {} as Record<ServerName, LoadPoint[]>;
  for (const name of names) {
    points[name] = options.concurrencies.map((c) => loadPoint(c, samples.get(`${name} ${c}`) ?? []));
  }
  return points;
}

// ---------------------------------------------------------------------------------------------
// AWS requests per job, counted at the proxy

interface JobCost {
  jobs: number;
  ingest: Record<string, number>;
  /** New TCP connections the server opened to AWS while taking the uploads (4 at a time). */
  ingestConnections: number;
  worker?: Record<string, number>;
  statusRead?: Record<string, number>;
  resultRead?: Record<string, number>;
  /** Jobs that ended `succeeded` (content-engine only). */
  succeeded?: number;
  /** Idle ReceiveMessage calls that returned nothing (not a per-job cost). */
  emptyReceives?: number;
}

const total = (counts: Record<string, number> | undefined) =>
  Object.values(counts ?? {}).reduce((a, b) => a + b, 0);

async function waitQueueDrained(sqs: SQSClient, queueUrl: string, worker: ChildProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  let quietChecks = 0;
  while (Date.now() < deadline) {
    if (worker.exitCode !== null) throw new Error(`the worker exited with ${worker.exitCode}`);
    const { Attributes: a = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const left =
      Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
    quietChecks = left === 0 ? quietChecks + 1 : 0;
    if (quietChecks >= 3) return;
    await sleep(200);
  }
  throw new Error("the worker did not drain the queue within 90 s");
}

async function countJobCost(
  setup: ServerSetup,
  emulator: Emulator,
  sqs: SQSClient,
  queueUrl: string,
  body: Buffer,
  jobs: number,
): Promise<JobCost> {
  const server = await startServer(setup, emulator.proxy, queueUrl, undefined);
  const agent = newAgent(4);
  try {
    await emulator.reset();
    const jobIds: string[] = [];
    const contentType = `multipart/form-data; boundary=${BOUNDARY}`;
    await runPool(0, jobs, 4, async (i) => {
      const res = await postDocument(agent, server.url, API_KEY, body, `doc-${i}.txt`, contentType);
      if (res.status !== 202) throw new Error(`${LABEL[setup.name]} answered ${res.status}: ${res.body}`);
      jobIds.push((JSON.parse(res.body) as { jobId: string }).jobId);
    });
    const ingest = await emulator.calls();
    const cost: JobCost = {
      jobs,
      ingest: countOperations(ingest.calls),
      ingestConnections: ingest.connections,
    };
    if (setup.name !== "content-engine") return cost;

    // The worker, from source, through the proxy; done when the queue is empty.
    await emulator.reset();
    const worker = spawn(process.execPath, [WORKER_MAIN], {
      env: {
        PATH: process.env.PATH ?? "",
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        AWS_ENDPOINT_URL: emulator.proxy,
        CONTENT_ENGINE_BUCKET: BUCKET,
        CONTENT_ENGINE_QUEUE_URL: queueUrl,
        WORKER_METRICS_PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    try {
      await waitQueueDrained(sqs, queueUrl, worker);
    } finally {
      await stopProcess(worker);
    }
    const workerCalls = (await emulator.calls()).calls;
    cost.emptyReceives = workerCalls.filter((c) => c.empty).length;
    cost.worker = countOperations(workerCalls.filter((c) => !c.empty));

    // One status read and one result read per job, as a client that polls once would.
    const headers = { authorization: `Bearer ${API_KEY}` };
    await emulator.reset();
    let succeeded = 0;
    for (const id of jobIds) {
      const view = (await (await fetch(`${server.url}/v1/jobs/${id}`, { headers })).json()) as {
        status?: string;
      };
      if (view.status === "succeeded") succeeded++;
    }
    cost.statusRead = countOperations((await emulator.calls()).calls);
    await emulator.reset();
    for (const id of jobIds)
      await (await fetch(`${server.url}/v1/jobs/${id}/result`, { headers })).arrayBuffer();
    cost.resultRead = countOperations((await emulator.calls()).calls);
    cost.succeeded = succeeded;
    return cost;
  } finally {
    agent.destroy();
    await stopProcess(server.child);
  }
}

// ---------------------------------------------------------------------------------------------

/** The multipart/form-data body of one upload: a `file` part with a 16 KiB text document. */
export function multipartBody(document: Buffer, filename = "report.txt"): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/plain\r\n\r\n`,
    ),
    document,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

function coreSplit(): { server: string | undefined; load: string | undefined; note: string } {
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

const perJob = (counts: Record<string, number> | undefined, jobs: number) => round(total(counts) / jobs, 2);
const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? String(round(value, digits)) : "—");
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b, 2) : Number.NaN;

export async function runIngestCost(options: IngestCostOptions = {}): Promise<BenchResult> {
  const opts: Required<IngestCostOptions> = {
    concurrencies: options.concurrencies ?? [4, 32],
    seconds: options.seconds ?? 4,
    rounds: options.rounds ?? 3,
    warmupSeconds: options.warmupSeconds ?? 3,
    countedJobs: options.countedJobs ?? 40,
    docBytes: options.docBytes ?? 16 * KiB,
  };
  // Throws "wrk is not installed: run npm run setup:tools" (the Debian package wrk).
  const wrk = toolPath("wrk");
  const python = ensureReferenceVenv();
  const apiBundle = await bundleApi("ingest-cost-api");
  const cores = coreSplit();
  const loadBefore = loadavg();

  const work = mkdtempSync(join(tmpdir(), "ce-ingest-cost-"));
  const body = multipartBody(makeDocument(7, opts.docBytes));
  const bodyFile = join(work, "upload.multipart");
  writeFileSync(bodyFile, body);

  const emulator = await startEmulator(cores.load);
  const clientOptions = { region: REGION, endpoint: emulator.direct };
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const s3 = createS3Client(clientOptions);
  const sqs = createSqsClient(clientOptions);
  const costs = {} as Record<ServerName, JobCost>;
  let load = {} as Record<ServerName, LoadPoint[]>;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const queue = async (name: string) =>
      (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "60" } })))
        .QueueUrl!;
    const loadQueue = await queue("ingest-cost-load");
    for (const name of SERVERS) {
      costs[name] = await countJobCost(
        { name, apiBundle, python },
        emulator,
        sqs,
        await queue(`ingest-cost-count-${name}`),
        body,
        opts.countedJobs,
      );
    }
    const servers = {} as Record<ServerName, Server>;
    try {
      for (const name of SERVERS) {
        servers[name] = await startServer(
          { name, apiBundle, python },
          emulator.direct,
          loadQueue,
          cores.server,
        );
      }
      load = await measureLoad(servers, wrk, bodyFile, opts, cores.load);
    } finally {
      for (const server of Object.values(servers)) await stopProcess(server.child);
    }
  } finally {
    s3.destroy();
    sqs.destroy();
    emulator.child.disconnect();
    await stopProcess(emulator.child);
    rmSync(work, { recursive: true, force: true });
  }
  const loadAfter = loadavg();

  const ce = costs["content-engine"];
  const ref = costs.fastapi;
  const ceIngest = perJob(ce.ingest, ce.jobs);
  const ceWorker = perJob(ce.worker, ce.jobs);
  const ceEndToEnd = round(ceIngest + ceWorker, 2);
  const refIngest = perJob(ref.ingest, ref.jobs);

  const metrics: Metric[] = [];
  const rows: string[][] = [];
  const row = (metric: string, unit: string, a: number, b: number, digits = 1) => {
    rows.push([`${metric}${unit ? ` (${unit})` : ""}`, fmt(a, digits), fmt(b, digits), fmt(ratio(a, b), 2)]);
    metrics.push({ metric: `content-engine: ${metric}`, value: round(a, digits), unit });
    if (Number.isFinite(b)) metrics.push({ metric: `reference: ${metric}`, value: round(b, digits), unit });
  };
  for (let i = 0; i < opts.concurrencies.length; i++) {
    const a = load["content-engine"][i]!;
    const b = load.fastapi[i]!;
    const c = a.concurrency;
    row(`CPU per upload c=${c}`, "ms", a.cpuMsPerUpload, b.cpuMsPerUpload, 2);
    row(`throughput c=${c}`, "uploads/s", a.uploadsPerSecond, b.uploadsPerSecond);
    row(`latency p50 c=${c}`, "ms", a.p50Ms, b.p50Ms);
    row(`latency p99 c=${c}`, "ms", a.p99Ms, b.p99Ms);
    if (a.serverWithin25ms !== undefined) {
      rows.push([
        `uploads the API answered within 25 ms, its own histogram, c=${c} (%)`,
        fmt(a.serverWithin25ms * 100, 2),
        "—",
        "—",
      ]);
      metrics.push({
        metric: `content-engine: uploads answered within 25 ms by the API's histogram c=${c}`,
        value: round(a.serverWithin25ms * 100, 2),
        unit: "%",
      });
    }
    row(`server CPU used c=${c}`, "cores", a.cpuCores, b.cpuCores, 2);
  }
  row("AWS requests per job: ingest", "", ceIngest, refIngest, 2);
  row(
    "new AWS connections per upload (c=4)",
    "",
    ce.ingestConnections / ce.jobs,
    ref.ingestConnections / ref.jobs,
    2,
  );
  row("AWS requests per job: worker", "", ceWorker, Number.NaN, 2);
  row("AWS requests per job: end to end (no polling)", "", ceEndToEnd, Number.NaN, 2);
  row("AWS requests per status read", "", perJob(ce.statusRead, ce.jobs), Number.NaN, 2);
  row("AWS requests per result read", "", perJob(ce.resultRead, ce.jobs), Number.NaN, 2);

  const at4 = opts.concurrencies.indexOf(4);
  const cpuRatios = load["content-engine"].map((p, i) =>
    ratio(p.cpuMsPerUpload, load.fastapi[i]!.cpuMsPerUpload),
  );
  const goal = (met: boolean) => (met ? "met" : "NOT met");
  const notes = [
    `${cores.note}; CPU = utime+stime of the server process from /proc/<pid>/stat (${TICKS_PER_SECOND} ticks/s) over each wrk run`,
    `load generator: wrk 4.1 (Debian package), 1 thread, one ${body.length}-byte multipart body (a ${opts.docBytes / KiB} KiB text file); ${opts.rounds} rounds of ${opts.seconds} s runs per server and concurrency, alternating between the servers, after ${opts.warmupSeconds} s warm-up each; CPU and throughput over all rounds, p50/p99 the median of the rounds`,
    "AWS requests counted at a proxy in front of the emulator, in a separate run of " +
      `${opts.countedJobs} jobs (the timed runs go to the emulator directly); worker = the consumer from source, until the queue is empty, empty long polls excluded (${ce.emptyReceives ?? 0} of them)`,
    `content-engine ingest per ${ce.jobs} jobs: ${JSON.stringify(ce.ingest)}; worker: ${JSON.stringify(ce.worker)}; status reads: ${JSON.stringify(ce.statusRead)}; result reads: ${JSON.stringify(ce.resultRead)}`,
    `reference ingest per ${ref.jobs} jobs: ${JSON.stringify(ref.ingest)} (it has no worker or status API of its own)`,
    `goal CPU per upload ≤ 1/3 of the reference's: ratio ${cpuRatios.map((r, i) => `${fmt(r, 2)} at c=${opts.concurrencies[i]}`).join(", ")}: ${goal(cpuRatios.every((r) => r <= 1 / 3))}`,
    `goal ≤ 5 AWS requests per job end to end: ${ceEndToEnd}: ${goal(ceEndToEnd <= 5)}`,
    at4 >= 0
      ? `goal p99 ≤ 25 ms at c=4: ${fmt(load["content-engine"][at4]!.p99Ms)} ms at wrk (which shares its core with the emulator): ${goal(load["content-engine"][at4]!.p99Ms <= 25)}; server-side, ${fmt((load["content-engine"][at4]!.serverWithin25ms ?? Number.NaN) * 100, 2)} % of uploads were answered within 25 ms by the API's own histogram (p99 ≤ 25 ms there when ≥ 99 %)`
      : "goal p99 at c=4: not measured",
    `load average before ${loadBefore.map((l) => l.toFixed(1)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(1)).join(" ")} on ${availableParallelism()} cores: on a busy machine only the ratios of this run count`,
  ];
  notes.push(
    `CPU per upload ratio in each round: ${opts.concurrencies
      .map(
        (c, i) =>
          `c=${c}: ${load["content-engine"]
            [i]!.rounds.map((r, k) => {
              const b = load.fastapi[i]!.rounds[k]!;
              return fmt(ratio(r.cpuMs / r.accepted, b.cpuMs / b.accepted), 2);
            })
            .join(", ")}`,
      )
      .join("; ")} (the spread says how much the machine disturbed this run)`,
  );
  if (ce.succeeded !== undefined && ce.succeeded !== ce.jobs)
    notes.push(`only ${ce.succeeded} of ${ce.jobs} counted jobs read succeeded`);
  for (const name of ["content-engine", "fastapi"] as const) {
    for (const p of load[name]) {
      if (p.rejected > 0)
        notes.push(`${LABEL[name]} c=${p.concurrency}: ${p.rejected} requests failed or were not 2xx`);
    }
  }
  return {
    bench: "ingest-cost",
    setup: `16 KiB multipart uploads to the bundled API (as its image runs it) and to a FastAPI + boto3 reference, same fauxqs emulator, concurrency ${opts.concurrencies.join(" and ")}`,
    metrics,
    notes,
    comparison: { head: ["metric", LABEL["content-engine"], LABEL.fastapi, "ratio"], rows },
    details: { costs, load, cpuRatios },
  };
}

if (import.meta.main) await report(await runIngestCost());
