// Delivery benchmarks (numbers, not tests):
//  1. cold start of each bundled action: spawn `node actions/<a>/dist/index.js` to its first AWS request;
//  2. deploy-ecs's own time against moto, AWS waits (rollout polls) excluded.
//   node bench/delivery.ts        prints a table and JSON
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { deployEcs } from "../actions/delivery/src/ecs.ts";
import { memoryReporter } from "../actions/delivery/src/reporter.ts";
import { awsFor, createEcsService, digest, testEnvironment } from "../actions/delivery/test/fixtures.ts";
import { startMoto } from "../test/support/moto.ts";
import { type BenchResult, percentile, report, round } from "./lib.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

/** Spawns an action and resolves with the ms until its first request reaches `endpoint`'s server. */
async function coldStart(entry: string, inputs: Record<string, string>): Promise<number> {
  const workspace = mkdtempSync(join(tmpdir(), "bench-ws-"));
  cpSync(join(root, "environments"), join(workspace, "environments"), { recursive: true });
  let started = 0;
  let firstRequest = 0;
  const server = createServer((_req, res) => {
    firstRequest ||= performance.now();
    res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: join(workspace, "out"),
    GITHUB_STEP_SUMMARY: join(workspace, "summary"),
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    "INPUT_AWS-ENDPOINT": endpoint,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const child = spawn(process.execPath, [entry], { cwd: workspace, env, stdio: "ignore" });
  started = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (firstRequest || child.exitCode !== null) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  child.kill("SIGKILL");
  server.close();
  if (!firstRequest) throw new Error(`${entry} exited before calling AWS`);
  return firstRequest - started;
}

function summarise(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), max: round(sorted.at(-1)!) };
}

export async function runDelivery(): Promise<BenchResult> {
  const metrics: BenchResult["metrics"] = [];
  const notes: string[] = [];
  const actions: [string, Record<string, string>][] = [
    ["deploy-ecs", { environment: "dev", digest: digest("b") }],
    ["deploy-lambda", { environment: "dev", "zip-file": join(root, "package.json") }],
  ];
  for (const [action, inputs] of actions) {
    for (const [label, entry] of [
      ["dist", join(root, "actions", action, "dist", "index.js")],
      ["src", join(root, "actions", action, "src", "main.ts")],
    ] as const) {
      const samples: number[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await coldStart(entry, inputs));
      const { p50, max } = summarise(samples);
      metrics.push({ metric: `${action} ${label} cold start to first AWS call p50`, value: p50, unit: "ms" });
      metrics.push({ metric: `${action} ${label} cold start to first AWS call max`, value: max, unit: "ms" });
    }
  }

  const moto = await startMoto();
  try {
    const env = testEnvironment();
    await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    const own: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const outcome = await deployEcs({
        env,
        digest: digest(i % 2 === 0 ? "b" : "c"),
        aws: awsFor(moto.endpoint),
        reporter: memoryReporter(),
        pollSeconds: 0.05,
        progressSeconds: 30,
      });
      if (outcome.status !== "succeeded") notes.push(`run ${i}: ${outcome.status} ${outcome.reason}`);
      own.push(outcome.timings.totalMs - outcome.timings.waitingMs);
      total.push(outcome.timings.totalMs);
    }
    metrics.push({
      metric: "deploy-ecs own time (AWS waits excluded) p50",
      value: summarise(own).p50,
      unit: "ms",
    });
    metrics.push({
      metric: "deploy-ecs own time (AWS waits excluded) max",
      value: summarise(own).max,
      unit: "ms",
    });
    metrics.push({
      metric: "deploy-ecs total incl. rollout wait p50",
      value: summarise(total).p50,
      unit: "ms",
    });
  } finally {
    await moto.stop();
  }
  notes.push(
    "own time includes the describe/register/update round trips to moto on loopback; waits are rollout polls",
  );
  return {
    bench: "delivery",
    setup: `${RUNS} runs each; cold start = spawn of node <entry> with INPUT_* until the first request reaches a loopback AWS endpoint; deploy-ecs against moto_server`,
    metrics,
    notes,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runDelivery();
  report(result);
  console.log(JSON.stringify(result, null, 2));
}
