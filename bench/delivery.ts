// Delivery benchmarks (numbers, not tests):
//  1. cold start of the bundled actions as a runner starts them: `node actions/<a>/dist/index.js` with
//     INPUT_* and `plan: true`, against moto through a counting proxy (test/support/aws-proxy.ts); from
//     exec to the first AWS request, and the CPU the process had used by then; bare `node -e 0` for
//     reference;
//  2. deploy-ecs's own time against moto, AWS waits (rollout polls) excluded.
//   node bench/delivery.ts [git-ref]   or   npm run bench -- delivery      prints a table, writes bench/results/delivery.json
//   BENCH_RUNS=9 (default) sets the runs per line. A git ref (argument, or BENCH_BASELINE_REF) adds
//   that commit's deploy-ecs dist as a line of the same run: before and after, measured side by side.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setEnvironmentFields } from "@content-engine/environments";
import { deployEcs } from "../actions/delivery/src/ecs.ts";
import { memoryReporter } from "../actions/delivery/src/reporter.ts";
import { type AwsCall, startAwsProxy } from "../test/support/aws-proxy.ts";
import {
  awsFor,
  createEcsService,
  devYaml,
  digest,
  testEnvironment,
} from "../test/support/delivery-fixtures.ts";
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto } from "../test/support/moto.ts";
import { type BenchResult, KiB, type Metric, percentile, report, round } from "./lib.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 9);

/** CPU time (ms) a live process has used so far, summed over its threads (/proc/<pid>/task/<tid>/schedstat, ns). */
function processCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e6;
}

const now = () => performance.timeOrigin + performance.now();

interface ColdStart {
  /** exec → first AWS request (ms); for `node -e 0`, exec → exit. */
  wallMs: number;
  /** CPU the process had used at that moment (ms, all threads). */
  cpuMs: number;
  firstCall: string;
}

/** A workspace with environments/ whose dev region is moto's, as the runner's checkout would hold it. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-ws-"));
  cpSync(join(root, "environments"), join(dir, "environments"), { recursive: true });
  writeFileSync(
    join(dir, "environments", "dev.yaml"),
    setEnvironmentFields(devYaml, [{ path: ["region"], value: MOTO_REGION }]),
  );
  return dir;
}

/** Runs `node <args>` as the runner does and times it to its first request at `endpoint` (or to exit). */
async function coldStart(
  args: string[],
  inputs: Record<string, string>,
  proxy: { url: string; first: (pid: number) => Promise<AwsCall & { cpuMs: number }> } | undefined,
  ws: string,
  extraEnv: Record<string, string> = {},
): Promise<ColdStart> {
  const env: Record<string, string> = {
    ...extraEnv,
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? ws,
    GITHUB_ACTIONS: "true",
    GITHUB_WORKSPACE: ws,
    GITHUB_OUTPUT: join(ws, "out"),
    GITHUB_STEP_SUMMARY: join(ws, "summary"),
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_REGION: MOTO_REGION,
  };
  if (proxy) env["INPUT_AWS-ENDPOINT"] = proxy.url;
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const started = now();
  const child = spawn(process.execPath, args, { cwd: ws, env, stdio: "ignore" });
  const exited = once(child, "exit");
  if (!proxy) {
    await exited;
    return { wallMs: now() - started, cpuMs: Number.NaN, firstCall: "(exit)" };
  }
  const first = await Promise.race([
    proxy.first(child.pid!),
    exited.then(() => {
      throw new Error(`node ${args.join(" ")} exited before calling AWS`);
    }),
  ]);
  // Let the run finish (a plan is quick against moto), so runs do not overlap.
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
  return { wallMs: first.at - started, cpuMs: first.cpuMs, firstCall: `${first.service} ${first.operation}` };
}

function median(samples: number[]): number {
  return round(
    percentile(
      [...samples].sort((a, b) => a - b),
      50,
    ),
  );
}

/** The dist bundles' sizes, so a README line can say what was loaded. */
function bundleKiB(action: string): number {
  return round(statSync(join(root, "actions", action, "dist", "action.js")).size / KiB, 0);
}

interface ColdStartLine {
  name: string;
  args: string[];
  inputs: Record<string, string>;
  /** Timed to the first AWS call; otherwise to exit. */
  aws: boolean;
  env?: Record<string, string>;
}

/** deploy-ecs's committed dist/ at `ref`, in a folder of its own (with a package.json of type module, as in the repository). */
function distAt(ref: string): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-dist-"));
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  for (const file of ["index.js", "action.js"]) {
    try {
      const text = execFileSync("git", ["show", `${ref}:actions/deploy-ecs/dist/${file}`], {
        cwd: root,
        maxBuffer: 64 * 1024 * 1024,
        stdio: ["ignore", "pipe", "ignore"],
      });
      writeFileSync(join(dir, file), text);
    } catch {
      // action.js exists only since the bundle was split for the compile cache
    }
  }
  return join(dir, "index.js");
}

export async function runDelivery(
  options: { baselineRef?: string | undefined } = { baselineRef: process.env.BENCH_BASELINE_REF },
): Promise<BenchResult> {
  const metrics: Metric[] = [];
  const notes: string[] = [];
  const moto = await startMoto();
  // Each run's first request: the proxy resolves the waiting run, reading the child's CPU at once.
  let waiting: { pid: number; resolve: (c: AwsCall & { cpuMs: number }) => void } | undefined;
  const proxy = await startAwsProxy(moto.endpoint, {
    restIsS3: false,
    onCall: (call) => {
      if (!waiting) return;
      const { pid, resolve } = waiting;
      waiting = undefined;
      let cpuMs = Number.NaN;
      try {
        cpuMs = processCpuMs(pid);
      } catch {
        // already gone
      }
      resolve({ ...call, cpuMs });
    },
  });
  const first = (pid: number) =>
    new Promise<AwsCall & { cpuMs: number }>((resolve) => {
      waiting = { pid, resolve };
    });
  try {
    const env = testEnvironment();
    await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    const ws = workspace();
    const ecs = { environment: "dev", digest: digest("b"), plan: "true" };
    const ecsDist = join(root, "actions", "deploy-ecs", "dist", "index.js");
    // A GitHub-hosted runner starts every job on a fresh machine: no compile cache. A second run of
    // an action on the same machine (self-hosted runners) finds its compiled code in the cache.
    const noCache = { NODE_DISABLE_COMPILE_CACHE: "1" };
    const cache = { NODE_COMPILE_CACHE: mkdtempSync(join(tmpdir(), "bench-compile-cache-")) };
    const lines: ColdStartLine[] = [
      { name: "node -e 0 (exec to exit)", args: ["-e", "0"], inputs: {}, aws: false },
      { name: "deploy-ecs plan", args: [ecsDist], inputs: ecs, aws: true, env: noCache },
      ...(options.baselineRef
        ? [
            {
              name: `deploy-ecs plan, dist of ${options.baselineRef}`,
              args: [distAt(options.baselineRef)],
              inputs: ecs,
              aws: true,
              env: noCache,
            },
          ]
        : []),
      {
        // What the loader (dist/index.js) costs a fresh runner.
        name: "deploy-ecs plan, dist/action.js without the compile-cache loader",
        args: [join(root, "actions", "deploy-ecs", "dist", "action.js")],
        inputs: ecs,
        aws: true,
        env: noCache,
      },
      {
        name: "deploy-ecs plan, compile cache warm (same runner again)",
        args: [ecsDist],
        inputs: ecs,
        aws: true,
        env: cache,
      },
      {
        name: "deploy-lambda plan",
        args: [join(root, "actions", "deploy-lambda", "dist", "index.js")],
        inputs: { environment: "dev", "zip-file": join(root, "package.json"), plan: "true" },
        aws: true,
        env: noCache,
      },
    ];
    // One untimed run fills the warm line's cache.
    await coldStart([ecsDist], ecs, { url: proxy.url, first }, ws, cache);
    const samples = new Map<string, ColdStart[]>(lines.map((line) => [line.name, []]));
    // Interleaved, so a burst of load on the machine hits every line alike.
    for (let i = 0; i < RUNS; i++) {
      for (const line of lines) {
        const aws = line.aws ? { url: proxy.url, first } : undefined;
        samples.get(line.name)!.push(await coldStart(line.args, line.inputs, aws, ws, line.env));
      }
    }
    for (const { name, aws } of lines) {
      const runs = samples.get(name)!;
      if (!aws) {
        metrics.push({ metric: `${name} p50`, value: median(runs.map((r) => r.wallMs)), unit: "ms" });
        continue;
      }
      const wall = runs.map((r) => r.wallMs);
      const cpu = runs.map((r) => r.cpuMs);
      // Medians as the issue measures; minimums too, the least disturbed runs on a busy machine.
      metrics.push(
        { metric: `${name}: exec to first AWS call p50`, value: median(wall), unit: "ms" },
        { metric: `${name}: exec to first AWS call min`, value: round(Math.min(...wall)), unit: "ms" },
        { metric: `${name}: CPU used by the first AWS call p50`, value: median(cpu), unit: "ms" },
        { metric: `${name}: CPU used by the first AWS call min`, value: round(Math.min(...cpu)), unit: "ms" },
      );
      notes.push(`${name}: first AWS call ${runs[0]!.firstCall}`);
    }
    for (const action of ["deploy-ecs", "deploy-lambda"]) {
      metrics.push({ metric: `${action} dist/action.js size`, value: bundleKiB(action), unit: "KiB" });
    }

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
    metrics.push(
      { metric: "deploy-ecs own time (AWS waits excluded) p50", value: median(own), unit: "ms" },
      { metric: "deploy-ecs own time (AWS waits excluded) max", value: round(Math.max(...own)), unit: "ms" },
      { metric: "deploy-ecs total incl. rollout wait p50", value: median(total), unit: "ms" },
    );
  } finally {
    await proxy.stop();
    await moto.stop();
  }
  notes.push(
    "cold start = spawn of node dist/index.js with INPUT_* (plan: true) until its first request reaches moto (through test/support/aws-proxy.ts); CPU from /proc/<pid>/task/*/schedstat at that moment, which a busy machine disturbs less than wall time",
    "own time includes the describe/register/update round trips to moto on loopback; waits are rollout polls",
  );
  return {
    bench: "delivery",
    setup: `${RUNS} runs per line, interleaved; bundled actions as a runner starts them, against moto_server`,
    metrics,
    notes,
  };
}

if (import.meta.main) {
  await report(await runDelivery({ baselineRef: process.argv[2] ?? process.env.BENCH_BASELINE_REF }));
}
