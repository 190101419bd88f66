// The load generator, run in a worker thread so the client's own CPU work does not share the event
// loop of the API (and the in-process emulator) it is measuring.
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { KiB, makeDocument, newAgent, postDocument, runPool } from "./lib.ts";

export interface LoadOptions {
  apiUrl: string;
  apiKey: string;
  /** Requests sent (and not recorded) before the measured ones. */
  warmup: number;
  /** Measured requests. */
  count: number;
  concurrency: number;
  docBytes?: number;
  /** Distinct documents cycled through; default one per request. */
  distinct?: number;
  /** Seed offset, so two loads against one stack send different documents. */
  seed?: number;
}

export interface LoadResult {
  /** Per measured request, milliseconds, in completion order. */
  latenciesMs: number[];
  /** Answer status → count, measured requests only (0 = network error). */
  statuses: Record<string, number>;
  /** Job ids of accepted measured requests. */
  jobIds: string[];
  /** First few non-202 answers, for the report. */
  errors: string[];
  elapsedMs: number;
}

/** Runs the load in a worker thread and resolves with what it measured. */
export function loadInThread(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { role: "load", options } });
    let result: LoadResult | undefined;
    worker.once("message", (message: LoadResult) => {
      result = message;
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (result) resolve(result);
      else reject(new Error(`the load thread exited with code ${code} and no result`));
    });
  });
}

async function load(options: LoadOptions): Promise<LoadResult> {
  const bytes = options.docBytes ?? 16 * KiB;
  const total = options.warmup + options.count;
  const distinct = Math.min(options.distinct ?? total, total);
  const seed = options.seed ?? 0;
  const docs = Array.from({ length: distinct }, (_, i) => makeDocument(seed + i, bytes));
  const agent = newAgent(options.concurrency);
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  const jobIds: string[] = [];
  const errors: string[] = [];

  const send = async (i: number, measured: boolean) => {
    const res = await postDocument(
      agent,
      options.apiUrl,
      options.apiKey,
      docs[i % distinct]!,
      `doc-${i}.txt`,
    );
    if (!measured) return;
    latenciesMs.push(res.ms);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    if (res.status === 202) jobIds.push((JSON.parse(res.body) as { jobId: string }).jobId);
    else if (errors.length < 5) errors.push(`${res.status}: ${res.body.slice(0, 300)}`);
  };

  await runPool(0, options.warmup, options.concurrency, (i) => send(i, false));
  const started = performance.now();
  await runPool(options.warmup, total, options.concurrency, (i) => send(i, true));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { latenciesMs, statuses, jobIds, errors, elapsedMs };
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === "load") {
  const { options } = workerData as { options: LoadOptions };
  parentPort!.postMessage(await load(options));
}
