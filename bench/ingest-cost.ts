// Ingest cost, side by side with the seed's FastAPI + boto3 backend (issue 12):
//  - the server's own CPU ms per accepted 16 KiB multipart upload (/proc/<pid>/stat utime+stime),
//  - throughput and p50/p99 at concurrency 4 and 32 (wrk, the Debian package),
//  - AWS requests per job counted at a proxy in front of the emulator: ingest, worker, status reads.
// Both servers talk to the same fauxqs emulator. Each server runs pinned to its own core with taskset;
// the emulator and wrk share the other core(s).
// Run alone: `npm run bench -- ingest-cost` or `node bench/ingest-cost.ts` (writes bench/results/ingest-cost.json).
//
// This file runs the bench in order; each job has its own file in bench/ingest-cost/:
// reference-venv.ts (the Python reference's environment), processes.ts (cores, the emulator, the
// servers and the worker), load.ts (wrk runs), aws-requests.ts (AWS requests per job) and report.ts
// (the table, metrics and notes). setup.ts holds what they share.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { createS3Client, createSqsClient } from "@content-engine/core";
import { toolPath } from "../scripts/tools.ts";
import { countJobCost, type JobCost } from "./ingest-cost/aws-requests.ts";
import { type LoadPoint, measureLoad } from "./ingest-cost/load.ts";
import { coreSplit, type Server, startEmulator, startServer, stopProcess } from "./ingest-cost/processes.ts";
import { ensureReferenceVenv } from "./ingest-cost/reference-venv.ts";
import { ingestCostResult } from "./ingest-cost/report.ts";
import {
  BUCKET,
  type IngestCostOptions,
  multipartBody,
  REGION,
  SERVERS,
  type ServerName,
} from "./ingest-cost/setup.ts";
import { type BenchResult, KiB, makeDocument, report } from "./lib.ts";
import { bundleApi } from "./upload-memory.ts";

export type { IngestCostOptions };

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
  return ingestCostResult({
    options: opts,
    costs,
    load,
    coresNote: cores.note,
    bodyBytes: body.length,
    loadBefore,
    loadAfter: loadavg(),
  });
}

if (import.meta.main) await report(await runIngestCost());
