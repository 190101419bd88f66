// API memory while streaming ONE large upload (default 512 MiB; target: peak RSS under 150 MiB).
// The API runs in its own child process (services/api/src/main.ts) so its RSS is its own; the S3+SQS
// emulator runs in this process and keeps objects as files (s3StorageDir), not in memory.
// Run alone: `node bench/upload-memory.ts [MiB]`.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { API_NODE_OPTIONS } from "@content-engine/api";
import { createS3Client, createSqsClient } from "@content-engine/core";
import { startFauxqs } from "fauxqs";
import { bundleNode } from "../scripts/bundle.ts";
import {
  type BenchResult,
  KiB,
  type Metric,
  MiB,
  makeDocument,
  newAgent,
  postDocument,
  report,
  round,
} from "./lib.ts";

const API_MAIN = fileURLToPath(new URL("../services/api/src/main.ts", import.meta.url));
const PROBE = fileURLToPath(new URL("./memory-probe.ts", import.meta.url));
const API_KEY = "bench_upload_memory_key_0001";
const BUCKET = "content-engine-bench";
const SAMPLE_MS = 50;

export interface UploadMemoryOptions {
  /** Upload size in MiB (default 512). */
  sizeMiB?: number;
  /** Write size of the generated body (default 64 KiB). */
  chunkBytes?: number;
  /** Which API builds to measure (default both). */
  modes?: Mode[];
  /**
   * esbuild aliases for the bundled build, to try a change without touching services/: e.g.
   * `{ "@aws-sdk/lib-storage": "/tmp/my-upload.ts" }` measures a replacement uploader.
   */
  alias?: Record<string, string>;
  /** Node/V8 flags for the API child; default: the ones the image runs it with (API_NODE_OPTIONS). */
  nodeArgs?: string[];
}

interface MemorySample {
  rssKiB: number;
  hwmKiB: number;
}

async function readMemory(pid: number): Promise<MemorySample | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") };
  } catch {
    return undefined;
  }
}

/** Samples VmRSS/VmHWM every SAMPLE_MS until stopped; keeps the max of each. */
function startSampler(pid: number) {
  let running = true;
  let maxRssKiB = 0;
  let maxHwmKiB = 0;
  let samples = 0;
  const loop = (async () => {
    while (running) {
      const m = await readMemory(pid);
      if (m) {
        samples++;
        maxRssKiB = Math.max(maxRssKiB, m.rssKiB);
        maxHwmKiB = Math.max(maxHwmKiB, m.hwmKiB);
      }
      await sleep(SAMPLE_MS);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { maxRssKiB, maxHwmKiB, samples };
    },
  };
}

/** POSTs `size` bytes of text as a chunked body, writing only when the socket takes more. */
async function streamUpload(
  apiUrl: string,
  size: number,
  chunkBytes: number,
): Promise<{ status: number; body: string; ms: number }> {
  const chunk = makeDocument(424242, chunkBytes);
  const started = performance.now();
  const req = request(new URL("/v1/jobs?filename=big.txt", apiUrl), {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "text/plain" },
  });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on("response", (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }),
      );
    });
    req.on("error", reject);
  });
  let sent = 0;
  let aborted = false;
  req.once("response", () => {
    // An early answer (413, 401, …) means the API will not read the rest.
    if (sent < size) aborted = true;
  });
  while (sent < size && !aborted) {
    const piece = size - sent >= chunk.length ? chunk : chunk.subarray(0, size - sent);
    sent += piece.length;
    if (!req.write(piece)) await Promise.race([once(req, "drain"), answered.catch(() => {})]);
  }
  req.end();
  const res = await answered;
  return { ...res, ms: performance.now() - started };
}

interface ProbeSample {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

type Mode = "source" | "bundled";

/**
 * Bundles services/api/src/main.ts the way the image does (scripts/bundle.ts: one .mjs, no type
 * stripping) into bench/results/build/<name>.mjs, with `preload` modules (e.g. the memory probe)
 * loaded first.
 */
export async function bundleApi(
  name: string,
  options: { preload?: string[]; alias?: Record<string, string> | undefined } = {},
): Promise<string> {
  // Inside the repository (git-ignored bench/results/), so runtime lookups in node_modules still resolve.
  const outfile = fileURLToPath(new URL(`./results/build/${name}.mjs`, import.meta.url));
  const alias = options.alias;
  await bundleNode(undefined, outfile, {
    stdin: {
      contents: [...(options.preload ?? []), API_MAIN].map((m) => `import ${JSON.stringify(m)};\n`).join(""),
      resolveDir: fileURLToPath(new URL(".", import.meta.url)),
      loader: "ts",
    },
    sourcemap: false,
    logLevel: "silent",
    ...(alias ? { alias } : {}),
  });
  return outfile;
}

interface Measured {
  mode: Mode;
  pid: number;
  status: number;
  body: string;
  ms: number;
  baseline: MemorySample;
  baselineProbe: ProbeSample | undefined;
  sampled: { maxRssKiB: number; maxHwmKiB: number; samples: number };
  after: MemorySample;
  /** Max of each memoryUsage() field during the upload. */
  probeMax: ProbeSample;
}

async function measure(
  mode: Mode,
  entry: string[],
  env: NodeJS.ProcessEnv,
  size: number,
  chunkBytes: number,
): Promise<Measured> {
  const api = spawn(process.execPath, entry, { env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  try {
    const stderr: string[] = [];
    api.stderr!.on("data", (d: Buffer) => stderr.push(d.toString("utf8")));
    let latest: ProbeSample | undefined;
    let tracking = false;
    const probeMax: ProbeSample = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
    api.on("message", (message: ProbeSample & { probe?: string }) => {
      if (message.probe !== "memory") return;
      latest = message;
      if (!tracking) return;
      for (const k of Object.keys(probeMax) as (keyof ProbeSample)[]) {
        probeMax[k] = Math.max(probeMax[k], message[k]);
      }
    });
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: api.stdout! }).on("line", (line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === "api listening" && entry.port) resolve(entry.port);
        } catch {
          // not a log line
        }
      });
      api.once("exit", (code) =>
        reject(new Error(`the API (${mode}) exited with code ${code}: ${stderr.join("").slice(-2000)}`)),
      );
    });
    const apiUrl = `http://127.0.0.1:${port}`;
    const pid = api.pid!;

    // Warm-up: one small upload, so lazily loaded code paths are in the baseline, then let it settle.
    const agent = newAgent(1);
    const warm = await postDocument(agent, apiUrl, API_KEY, makeDocument(1), "warm.txt");
    agent.destroy();
    if (warm.status !== 202) throw new Error(`warm-up upload answered ${warm.status}: ${warm.body}`);
    await sleep(1000);
    const baseline = (await readMemory(pid))!;
    const baselineProbe = latest;

    tracking = true;
    const sampler = startSampler(pid);
    const upload = await streamUpload(apiUrl, size, chunkBytes);
    await sleep(2 * SAMPLE_MS);
    const sampled = await sampler.stop();
    tracking = false;
    const after = (await readMemory(pid))!;
    return { mode, pid, ...upload, baseline, baselineProbe, sampled, after, probeMax };
  } finally {
    if (api.exitCode === null) {
      api.kill("SIGTERM");
      await Promise.race([once(api, "exit"), sleep(5000)]);
      if (api.exitCode === null) api.kill("SIGKILL");
    }
  }
}

export async function runUploadMemory(options: UploadMemoryOptions = {}): Promise<BenchResult> {
  const sizeMiB = options.sizeMiB ?? 512;
  const size = sizeMiB * MiB;
  const chunkBytes = options.chunkBytes ?? 64 * KiB;
  const modes = options.modes ?? ["source", "bundled"];
  const storageDir = await mkdtemp(join(tmpdir(), "ce-bench-s3-"));
  const emulator = await startFauxqs({ port: 0, host: "localhost", logger: false, s3StorageDir: storageDir });
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const clientOptions = { region: "us-east-1", endpoint: emulator.address };
  const s3 = createS3Client(clientOptions);
  const sqs = createSqsClient(clientOptions);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: "content-engine-bench-jobs" }));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: emulator.address,
      CONTENT_ENGINE_BUCKET: BUCKET,
      CONTENT_ENGINE_QUEUE_URL: queue.QueueUrl!,
      CONTENT_ENGINE_API_KEYS: `${API_KEY}:bench`,
      CONTENT_ENGINE_MAX_UPLOAD_BYTES: String(Math.max(600 * MiB, size + MiB)),
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    };
    const metrics: Metric[] = [];
    const notes: string[] = [
      `emulator in the bench process with s3StorageDir (objects on disk); API child RSS from /proc every ${SAMPLE_MS} ms; heap/Buffer split from process.memoryUsage() in the child (bench/memory-probe.ts)`,
      "source = `node --import bench/memory-probe.ts services/api/src/main.ts` (Node type stripping); bundled = one esbuild .mjs like the image's dist/main.mjs",
    ];
    for (const mode of modes) {
      const script =
        mode === "source"
          ? ["--import", PROBE, API_MAIN]
          : [await bundleApi("api", { preload: [PROBE], alias: options.alias })];
      const entry = [...(options.nodeArgs ?? API_NODE_OPTIONS.split(" ")), ...script];
      const r = await measure(mode, entry, env, size, chunkBytes);
      const mib = (kib: number) => round(kib / KiB);
      const mibB = (bytes: number | undefined) => round((bytes ?? Number.NaN) / MiB);
      const peakKiB = Math.max(r.sampled.maxRssKiB, r.after.hwmKiB);
      metrics.push(
        { metric: `${mode}: answer status`, value: r.status, unit: "" },
        { metric: `${mode}: throughput`, value: round(size / MiB / (r.ms / 1000)), unit: "MiB/s" },
        { metric: `${mode}: API RSS baseline (idle)`, value: mib(r.baseline.rssKiB), unit: "MiB" },
        { metric: `${mode}: API peak RSS (VmHWM)`, value: mib(peakKiB), unit: "MiB" },
        { metric: `${mode}: API RSS after upload`, value: mib(r.after.rssKiB), unit: "MiB" },
        { metric: `${mode}: V8 heap used idle`, value: mibB(r.baselineProbe?.heapUsed), unit: "MiB" },
        { metric: `${mode}: V8 heap used max`, value: mibB(r.probeMax.heapUsed), unit: "MiB" },
        { metric: `${mode}: Buffers (arrayBuffers) max`, value: mibB(r.probeMax.arrayBuffers), unit: "MiB" },
      );
      if (r.status === 202) {
        const jobId = (JSON.parse(r.body) as { jobId: string }).jobId;
        const head = await s3
          .send(new HeadObjectCommand({ Bucket: BUCKET, Key: `uploads/bench/${jobId}/big.txt` }))
          .catch(() => ({ ContentLength: undefined }));
        if (head.ContentLength !== size)
          notes.push(`${mode}: stored object size ${String(head.ContentLength)} != ${size}`);
      } else {
        notes.push(`${mode}: upload answered ${r.status}: ${r.body.slice(0, 300)}`);
      }
      if (r.after.hwmKiB <= r.baseline.hwmKiB) notes.push(`${mode}: the process peak was before the upload`);
      if (peakKiB / KiB > 150) notes.push(`${mode}: peak RSS ${mib(peakKiB)} MiB is over the 150 MiB target`);
    }
    return {
      bench: "upload-memory",
      setup: `one ${sizeMiB} MiB text/plain upload, chunked, ${chunkBytes / KiB} KiB writes, API in a child process`,
      metrics,
      notes,
    };
  } finally {
    s3.destroy();
    sqs.destroy();
    await emulator.stop();
    await rm(storageDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const arg = process.argv[2];
  await report(await runUploadMemory(arg ? { sizeMiB: Number(arg) } : {}));
}
