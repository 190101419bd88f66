// The ingest-cost bench's result: the side-by-side table, the metrics, and notes that check the goals
// of issue 12 and say how the numbers were taken.
import { availableParallelism } from "node:os";
import { type BenchResult, KiB, type Metric, round } from "../lib.ts";
import type { JobCost } from "./aws-requests.ts";
import type { LoadPoint } from "./load.ts";
import { TICKS_PER_SECOND } from "./processes.ts";
import { type IngestCostOptions, LABEL, SERVERS, type ServerName } from "./setup.ts";

/** What one run measured, and under which conditions. */
export interface IngestCostRun {
  options: Required<IngestCostOptions>;
  costs: Record<ServerName, JobCost>;
  load: Record<ServerName, LoadPoint[]>;
  /** How the cores were split (`coreSplit().note`). */
  coresNote: string;
  /** Bytes of the multipart body wrk sends. */
  bodyBytes: number;
  loadBefore: number[];
  loadAfter: number[];
}

const total = (counts: Record<string, number> | undefined) =>
  Object.values(counts ?? {}).reduce((a, b) => a + b, 0);
const perJob = (counts: Record<string, number> | undefined, jobs: number) => round(total(counts) / jobs, 2);
const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? String(round(value, digits)) : "—");
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b, 2) : Number.NaN;

export function ingestCostResult(run: IngestCostRun): BenchResult {
  const { options: opts, costs, load, loadBefore, loadAfter } = run;
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
    `${run.coresNote}; CPU = utime+stime of the server process from /proc/<pid>/stat (${TICKS_PER_SECOND} ticks/s) over each wrk run`,
    `load generator: wrk 4.1 (Debian package), 1 thread, one ${run.bodyBytes}-byte multipart body (a ${opts.docBytes / KiB} KiB text file); ${opts.rounds} rounds of ${opts.seconds} s runs per server and concurrency, alternating between the servers, after ${opts.warmupSeconds} s warm-up each; CPU and throughput over all rounds, p50/p99 the median of the rounds`,
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
  for (const name of SERVERS) {
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
