// The images that ship (numbers, not tests): built from the real Dockerfiles with podman on the
// offline stand-in base images (scripts/containers/base-images.sh), as the rehearsal builds them.
//  1. size of each image, and of the runtime base it adds to;
//  2. build time: cold (--no-cache: every layer again, npm's download cache mount warm, as a runner
//     with a cache), warm after a source change (the dependency layer reused), warm with nothing changed;
//  3. container start -> first /health 200, as ECS starts the API task (read-only root, uid 10001)
//     and as the chart starts the consumer.
//   npm run bench -- images     prints a table, writes bench/results/images.json
//   BENCH_RUNS=5 (default) sets the starts measured per role.

import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { repoRoot } from "../scripts/tools.ts";
import { baseImages, buildImage, DOCKERFILES, podman, runContainer } from "../test/support/containers.ts";
import { freePort } from "../test/support/moto.ts";
import { type BenchResult, type Metric, MiB, percentile, round } from "./lib.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TAG = { api: "localhost/content-engine-api:bench", worker: "localhost/content-engine-worker:bench" };

const sizeMiB = (image: string) =>
  Number(podman(["image", "inspect", "--format", "{{.Size}}", image]).stdout.trim()) / MiB;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** This checkout's tracked files in a temporary folder, with one worker source line changed. */
function changedContext(): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-images-"));
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: repoRoot, encoding: "utf8" }).split("\0");
  for (const file of files.filter(Boolean)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(dir, file));
  }
  writeFileSync(join(dir, "services/worker/src/bench-change.ts"), `export const change = ${Date.now()};\n`);
  return dir;
}

/** podman run -> first 200 from /health on `port`, in seconds. */
async function startToHealth(image: string, port: number, options: Parameters<typeof runContainer>[1]) {
  const t0 = performance.now();
  const container = runContainer(image, options);
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return (performance.now() - t0) / 1000;
      if (Date.now() > deadline) throw new Error(`no /health in 30 s:\n${container.logs()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    container.stop();
  }
}

export async function runImages(): Promise<BenchResult> {
  const base = baseImages();
  const metrics: Metric[] = [];
  const notes: string[] = [];

  const cold = await timed(() => buildImage(DOCKERFILES.api, TAG.api, base, repoRoot, ["--no-cache"]));
  const workerCold = await timed(() =>
    buildImage(DOCKERFILES.worker, TAG.worker, base, repoRoot, ["--no-cache"]),
  );
  const context = changedContext();
  let changed: number;
  try {
    changed = await timed(() => buildImage(DOCKERFILES.api, TAG.api, base, context));
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  const warm = await timed(() => buildImage(DOCKERFILES.api, TAG.api, base));
  metrics.push(
    { metric: "API image build, cold (--no-cache)", value: round(cold), unit: "s" },
    { metric: "API image build, warm after a source change", value: round(changed), unit: "s" },
    { metric: "API image build, warm, nothing changed", value: round(warm), unit: "s" },
    { metric: "worker image build, cold (--no-cache)", value: round(workerCold), unit: "s" },
    { metric: "API image size", value: round(sizeMiB(TAG.api)), unit: "MiB" },
    { metric: "worker image size", value: round(sizeMiB(TAG.worker)), unit: "MiB" },
    {
      metric: "runtime base image size (distroless stand-in)",
      value: round(sizeMiB(base.RUNTIME_IMAGE)),
      unit: "MiB",
    },
  );

  // /health answers without AWS: any well-formed configuration will do.
  const env = {
    AWS_REGION: "eu-west-1",
    CONTENT_ENGINE_BUCKET: "content-engine-bench",
    CONTENT_ENGINE_QUEUE_URL: "http://sqs.eu-west-1.localhost:9/000000000000/bench",
    HOST: "127.0.0.1",
  };
  const api: number[] = [];
  const consumer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    api.push(
      await startToHealth(TAG.api, port, {
        env: { ...env, PORT: String(port) },
        readOnly: true,
        capDrop: true,
        user: "10001:10001",
      }),
    );
    const metricsPort = await freePort();
    consumer.push(
      await startToHealth(TAG.api, metricsPort, {
        env: { ...env, WORKER_METRICS_PORT: String(metricsPort) },
        command: ["/app/consumer.mjs"],
        readOnly: true,
        capDrop: true,
      }),
    );
  }
  api.sort((a, b) => a - b);
  consumer.sort((a, b) => a - b);
  metrics.push(
    {
      metric: "API container start -> first /health 200, median",
      value: round(percentile(api, 50) * 1000, 0),
      unit: "ms",
    },
    {
      metric: "API container start -> first /health 200, max",
      value: round(api.at(-1)! * 1000, 0),
      unit: "ms",
    },
    {
      metric: "consumer role start -> first /health 200, median",
      value: round(percentile(consumer, 50) * 1000, 0),
      unit: "ms",
    },
  );
  notes.push(
    "cold builds keep npm's download cache mount (a runner with the GitHub cache); the stand-in base images are local, so no base pull is timed",
    `start times include podman run itself (runc, a read-only root with a /tmp tmpfs): ${RUNS} runs per role`,
  );
  return {
    bench: "images",
    setup: `podman ${podman(["--version"]).stdout.trim().split(" ").pop()} on the stand-in base images; API and worker Dockerfiles from this checkout`,
    metrics,
    notes,
    details: { api, consumer },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runImages();
  console.log(JSON.stringify(result, null, 2));
}
