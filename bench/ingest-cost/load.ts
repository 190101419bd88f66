// Load for the ingest-cost bench: wrk runs pinned next to the emulator, the server's CPU and its own
// latency histogram around each run, and the runs alternated between the servers and summed up.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { repoRoot } from "../../scripts/tools.ts";
import { type Histogram, parseHistogram, percentile } from "../lib.ts";
import { cpuTicks, pinned, type Server, TICKS_PER_SECOND } from "./processes.ts";
import { API_KEY, BOUNDARY, type IngestCostOptions, type ServerName } from "./setup.ts";

const WRK_SCRIPT = join(repoRoot, "bench", "wrk-upload.lua");

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

export interface LoadPoint {
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
export async function measureLoad(
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
