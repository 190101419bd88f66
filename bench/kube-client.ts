// deploy-helm's Kubernetes client, ours (actions/delivery/src/kube.ts) against @kubernetes/client-node,
// measured in the action that ships it (numbers, not tests):
//  1. size: deploy-helm's dist/action.js as bundleAction builds it, from two scratch copies of the
//     delivery library: as it is, and with kube.ts replaced by bench/kube-client-node.js (client-node
//     reads the kubeconfig and makes the first call, GET /version); then each client on its own: our
//     kube.ts, kube-diagnostics.ts and kube-dry-run.ts, and client-node with the least we would import
//     and with the typed clients every call would use;
//  2. cold start: `node dist/index.js` as a runner starts it (plan, a kubeconfig input, helm a script
//     that does nothing), from exec to its first connection to the API server (a TCP listener, which
//     then ends the run), and the CPU used by then; no compile cache, as on a fresh runner; `node -e 0`
//     for scale. BENCH_RUNS (default 9) runs per line, interleaved, so load elsewhere hits all alike;
//  3. both bundles plan against the local control plane (test/support/cluster-control-plane.ts, with
//     the namespace created so every object goes through the server-side dry-run): the variant is a
//     working client, and the plans' wall times. A machine without the cluster's tools gets a note.
// client-node CLIENT_NODE_VERSION is installed into .tools/bench-kube-client-node (npm) when missing.
//   node bench/kube-client.ts   or   npm run bench -- kube-client    prints a table, writes bench/results/kube-client.json
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { type BuildOptions, build } from "esbuild";
import { renderKubeconfig } from "../actions/delivery/src/eks.ts";
import { kubeRequest } from "../actions/delivery/src/kube.ts";
import {
  type ActionRun,
  repositoryRoot,
  runBundledAction,
  scratchWorkspace,
} from "../actions/delivery/test/support/run-action.ts";
import { toolPath } from "../scripts/tools.ts";
import { startCluster } from "../test/support/cluster-control-plane.ts";
import { type BenchResult, KiB, type Metric, percentile, report, round } from "./lib.ts";

export const CLIENT_NODE_VERSION = "2.0.1";
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
/** Plans against the control plane per client: each takes seconds (helm renders, every object is sent). */
const PLAN_RUNS = 3;
const clientNodeDir = join(repositoryRoot, ".tools", "bench-kube-client-node");

/** What deploy-helm asks of the API server, and what client-node would call for it. */
const CALLS = [
  ["GET /version (the cluster answers and takes the token)", "VersionApi.getCode"],
  ["GET /api/v1/namespaces/<ns> (plan: is there a namespace to dry-run in)", "CoreV1Api.readNamespace"],
  [
    "GET /api/<v>, /apis/<group>/<v> (plan: discovery of each kind's collection)",
    "KubernetesObjectApi (inside)",
  ],
  [
    "PATCH <collection>/<name>?dryRun=All&force&fieldValidation=Strict, apply-patch+yaml (plan: server-side dry-run)",
    "KubernetesObjectApi.patch(…, PatchStrategy.ServerSideApply): no fieldValidation argument, a middleware adds it",
  ],
  [
    "GET …/events?fieldSelector=involvedObject.kind=Pod,type=Warning (failed deploy: failing pods)",
    "CoreV1Api.listNamespacedEvent",
  ],
  ["GET …/pods (failed deploy: their state now)", "CoreV1Api.listNamespacedPod"],
  ["GET …/events (failed deploy, no pod warned: newest events)", "CoreV1Api.listNamespacedEvent"],
];

/** @kubernetes/client-node, pinned, in its own folder: it is not a dependency of the repository. */
function installClientNode(): string {
  const modules = join(clientNodeDir, "node_modules");
  const manifest = join(modules, "@kubernetes", "client-node", "package.json");
  const installed = existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).version;
  if (installed === CLIENT_NODE_VERSION) return modules;
  mkdirSync(clientNodeDir, { recursive: true });
  const dependencies = { "@kubernetes/client-node": CLIENT_NODE_VERSION };
  writeFileSync(join(clientNodeDir, "package.json"), `${JSON.stringify({ private: true, dependencies })}\n`);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: clientNodeDir,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return modules;
}

/** Links every entry of `from` into the new folder `to`, except `except`. */
function linkEntries(from: string, to: string, except: string[] = []) {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from).filter((entry) => !except.includes(entry)))
    symlinkSync(join(from, name), join(to, name));
}

/**
 * deploy-helm's dist/ as bundleAction builds it, from a copy of the delivery library in a scratch
 * checkout (its own node_modules/@content-engine/delivery points at the copy). With `clientNode`
 * (a node_modules folder holding @kubernetes/client-node), kube.ts is bench/kube-client-node.js.
 */
async function bundleDeployHelm(
  scratch: string[],
  clientNode?: string,
): Promise<{ action: string; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-kube-client-"));
  scratch.push(dir);
  const copied = [
    "delivery/package.json",
    "delivery/src",
    "deploy-helm/package.json",
    "deploy-helm/action.yml",
    "deploy-helm/src",
  ];
  for (const path of copied)
    cpSync(join(repositoryRoot, "actions", path), join(dir, "actions", path), { recursive: true });
  // The chart and the generated alerting rules, which the bundle finds three folders above itself.
  for (const folder of ["helm", "alarms"]) symlinkSync(join(repositoryRoot, folder), join(dir, folder));
  const packages = join(dir, "node_modules", "@content-engine");
  linkEntries(join(repositoryRoot, "node_modules"), join(dir, "node_modules"), ["@content-engine"]);
  linkEntries(join(repositoryRoot, "node_modules", "@content-engine"), packages, ["delivery"]);
  symlinkSync(join(dir, "actions", "delivery"), join(packages, "delivery"));
  const library = join(dir, "actions", "delivery");
  linkEntries(join(repositoryRoot, "actions", "delivery", "node_modules"), join(library, "node_modules"));
  if (clientNode) {
    symlinkSync(join(clientNode, "@kubernetes"), join(library, "node_modules", "@kubernetes"));
    renameSync(join(library, "src", "kube.ts"), join(library, "src", "kube-ours.ts"));
    cpSync(join(repositoryRoot, "bench", "kube-client-node.js"), join(library, "src", "kube.ts"));
  }
  const { bundleAction } = (await import(
    pathToFileURL(join(library, "src", "bundle.ts")).href
  )) as typeof import("../actions/delivery/src/bundle.ts");
  const files = await bundleAction("deploy-helm");
  const dist = join(dir, "actions", "deploy-helm", "dist");
  mkdirSync(dist);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dist, name), text);
  // runBundledAction runs actions/<action>/dist/index.js: a relative name reaches one outside the checkout.
  return {
    action: relative(join(repositoryRoot, "actions"), join(dir, "actions", "deploy-helm")),
    bytes: Buffer.byteLength(files["action.js"]!),
  };
}

/** Bytes of a minified ESM bundle of `contents` alone (as bundleAction minifies), `external` left out. */
async function bundledBytes(contents: string, resolveDir: string, external: string[] = []): Promise<number> {
  const options: BuildOptions = {
    stdin: { contents, resolveDir, loader: "ts" },
    bundle: true,
    write: false,
    platform: "node",
    target: "node24",
    format: "esm",
    minify: true,
    mainFields: ["module", "main"],
    legalComments: "none",
    logLevel: "silent",
    external,
  };
  return (await build(options)).outputFiles![0]!.contents.byteLength;
}

const median = (samples: number[]) =>
  round(
    percentile(
      [...samples].sort((a, b) => a - b),
      50,
    ),
  );

interface Line {
  name: string;
  /** The scratch action to run (see bundleDeployHelm); undefined: `node -e 0`, timed to its exit. */
  action?: string;
}

/** CPU (user + system, every thread) a live process has used so far: /proc/<pid>/stat, in 10 ms ticks. */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface ColdStarts {
  /** Exec to the first connection (ms); for `node -e 0`, exec to exit. */
  wall: number[];
  /** CPU the process had used at that moment (ms), which a busy machine disturbs less than wall time. */
  cpu: number[];
}

/**
 * Each line's cold starts, RUNS times, interleaved: exec to the first connection to the API server,
 * a TCP listener that ends the run there, so nothing after it is timed.
 */
async function coldStarts(lines: Line[], scratch: string[]): Promise<Map<string, ColdStarts>> {
  let connected: (() => void) | undefined;
  const listener = createServer((socket) => {
    connected?.();
    connected = undefined;
    socket.destroy();
  });
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const { port } = listener.address() as { port: number };
  const dir = mkdtempSync(join(tmpdir(), "bench-kube-cold-"));
  scratch.push(dir);
  // A helm that does nothing: reads its (empty) stdin and exits 0, so the plan's lint passes at once.
  const helm = join(dir, "helm");
  writeFileSync(helm, "#!/bin/sh\nexec cat >/dev/null\n", { mode: 0o755 });
  // A bearer token and no CA: the runs end before TLS.
  const kubeconfig = join(dir, "kubeconfig");
  const server = { name: "bench", endpoint: `https://127.0.0.1:${port}`, certificateAuthority: "" };
  writeFileSync(kubeconfig, renderKubeconfig(server, "bench", "content-engine"), { mode: 0o600 });
  const inputs = { environment: "dev", helm, kubeconfig, plan: "true" };
  const workspace = scratchWorkspace();
  scratch.push(workspace);
  const coldStart = async (line: Line): Promise<{ wall: number; cpu: number }> => {
    const started = performance.now();
    if (!line.action) {
      await once(spawn(process.execPath, ["-e", "0"], { stdio: "ignore" }), "exit");
      return { wall: performance.now() - started, cpu: Number.NaN };
    }
    let child: ChildProcess | undefined;
    const first = new Promise<{ wall: number; cpu: number }>((resolve) => {
      connected = () => {
        const wall = performance.now() - started;
        resolve({ wall, cpu: processCpuMs(child!.pid!) });
        child!.kill("SIGKILL");
      };
    });
    const run = runBundledAction(line.action, inputs, {
      workspace,
      // A GitHub-hosted runner starts every job on a fresh machine: no compile cache.
      env: { NODE_DISABLE_COMPILE_CACHE: "1" },
      onSpawn: (spawned) => {
        child = spawned;
      },
    });
    const at = await Promise.race([
      first,
      run.then((r) => {
        throw new Error(`${line.name} exited (${r.code}) before connecting: ${r.stdout}${r.stderr}`);
      }),
    ]);
    await run;
    return at;
  };
  const samples = new Map<string, ColdStarts>(lines.map((line) => [line.name, { wall: [], cpu: [] }]));
  try {
    for (let i = 0; i < RUNS; i++)
      for (const line of lines) {
        const { wall, cpu } = await coldStart(line);
        samples.get(line.name)!.wall.push(wall);
        samples.get(line.name)!.cpu.push(cpu);
      }
  } finally {
    listener.close();
  }
  return samples;
}

/** Each bundle plans against a real API server PLAN_RUNS times, interleaved; a note when no cluster starts. */
async function planAgainstCluster(
  lines: Required<Line>[],
  scratch: string[],
): Promise<Record<string, { wall: number[]; admission: string }> | string> {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  try {
    cluster = await startCluster();
  } catch (error) {
    return `plans against the control plane skipped: it did not start (${(error as Error).message.split("\n")[0]})`;
  }
  try {
    // With the namespace in place every rendered object goes through the server-side dry-run.
    await kubeRequest(cluster.access, "POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "content-engine" } },
    });
    const inputs = {
      environment: "dev",
      helm: toolPath("helm"),
      kubeconfig: cluster.kubeconfig,
      plan: "true",
    };
    const results = Object.fromEntries(
      lines.map((line) => [line.name, { wall: [] as number[], admission: "" }]),
    );
    for (let i = 0; i < PLAN_RUNS; i++) {
      for (const line of lines) {
        const workspace = scratchWorkspace();
        scratch.push(workspace);
        const run: ActionRun = await runBundledAction(line.action, inputs, { workspace });
        if (run.outputs.status !== "planned")
          throw new Error(`${line.name}: plan ${run.outputs.status}: ${run.stdout}`);
        results[line.name]!.wall.push(run.durationMs);
        results[line.name]!.admission =
          run.summary.match(/server-side dry-run: [^\n]*/)?.[0] ?? "no dry-run line";
      }
    }
    return results;
  } finally {
    await cluster.stop();
  }
}

const kib = (bytes: number) => round(bytes / KiB, 0);
const ratio = (ours: number, theirs: number) => `${round(theirs / ours, 2)}×`;

export async function runKubeClient(): Promise<BenchResult> {
  const notes: string[] = [];
  const scratch: string[] = [];
  try {
    const clientNode = installClientNode();
    const ours = await bundleDeployHelm(scratch);
    const variant = await bundleDeployHelm(scratch, clientNode);
    const src = join(repositoryRoot, "actions", "delivery", "src");
    const ourClient = await bundledBytes(
      ["kube.ts", "kube-diagnostics.ts", "kube-dry-run.ts"]
        .map((file) => `export * from ${JSON.stringify(join(src, file))};`)
        .join("\n"),
      src,
      // What the action bundles anyway, whichever client it has.
      ["yaml"],
    );
    const clientNodeAlone = (names: string[]) =>
      bundledBytes(`export { ${names.join(", ")} } from "@kubernetes/client-node";`, clientNodeDir);
    const least = await clientNodeAlone(["KubeConfig", "VersionApi"]);
    const typed = await clientNodeAlone(["KubeConfig", "VersionApi", "CoreV1Api", "KubernetesObjectApi"]);
    const metrics: Metric[] = [
      { metric: "deploy-helm dist/action.js, our client", value: kib(ours.bytes), unit: "KiB" },
      { metric: "deploy-helm dist/action.js, client-node", value: kib(variant.bytes), unit: "KiB" },
      { metric: "our client alone (kube*.ts)", value: kib(ourClient), unit: "KiB" },
      { metric: "client-node alone: KubeConfig + VersionApi", value: kib(least), unit: "KiB" },
      { metric: "client-node alone: + CoreV1Api + KubernetesObjectApi", value: kib(typed), unit: "KiB" },
    ];

    const node = "node -e 0 (exec to exit)";
    const samples = await coldStarts(
      [
        { name: node },
        { name: "our client", action: ours.action },
        { name: "client-node", action: variant.action },
      ],
      scratch,
    );
    const p50 = (name: string, of: keyof ColdStarts = "wall") => median(samples.get(name)![of]);
    metrics.push({ metric: `${node} p50`, value: p50(node), unit: "ms" });
    for (const name of ["our client", "client-node"]) {
      const what = `deploy-helm plan, ${name}: exec to first API request`;
      const { wall, cpu } = samples.get(name)!;
      metrics.push(
        { metric: `${what} p50`, value: p50(name), unit: "ms" },
        { metric: `${what} min`, value: round(Math.min(...wall)), unit: "ms" },
        { metric: `${what}, CPU used by then p50`, value: p50(name, "cpu"), unit: "ms" },
        { metric: `${what}, CPU used by then min`, value: round(Math.min(...cpu)), unit: "ms" },
      );
    }

    const plans = await planAgainstCluster(
      [
        { name: "our client", action: ours.action },
        { name: "client-node", action: variant.action },
      ],
      scratch,
    );
    if (typeof plans === "string") notes.push(plans);
    else
      for (const [name, { wall, admission }] of Object.entries(plans)) {
        const metric = `deploy-helm plan against the control plane, ${name} p50`;
        metrics.push({ metric, value: median(wall), unit: "ms" });
        notes.push(`${name}: ${admission}`);
      }

    const compare = (what: string, a: number, b: number) => [what, `${a}`, `${b}`, ratio(a, b)];
    const above = (name: string) => round(p50(name) - p50(node));
    const rows = [
      compare("deploy-helm dist/action.js (KiB)", kib(ours.bytes), kib(variant.bytes)),
      [
        "the client alone (KiB)",
        `${kib(ourClient)}`,
        `${kib(least)} to ${kib(typed)}`,
        `${ratio(ourClient, least)} to ${ratio(ourClient, typed)}`,
      ],
      compare("exec to first API request, p50 (ms)", p50("our client"), p50("client-node")),
      compare("the same above `node -e 0` (ms)", above("our client"), above("client-node")),
      compare(
        "CPU used by the first API request, p50 (ms)",
        p50("our client", "cpu"),
        p50("client-node", "cpu"),
      ),
    ];
    notes.push(
      "client-node in the action: bench/kube-client-node.js as kube.ts (KubeConfig.loadFromFile, VersionApi.getCode); the other calls keep our request function, which client-node has no generic counterpart of. Its undici (8.x) makes bundle.ts keep @actions/http-client's undici (6.x) too: two copies",
      "our client alone: kube.ts, kube-diagnostics.ts and kube-dry-run.ts, without yaml, which the action bundles whichever client it has",
      ...CALLS.map(([call, counterpart]) => `call: ${call} → client-node: ${counterpart}`),
      "auth we need: the bearer token and CA of the kubeconfig deploy-helm writes (EKS) or is given; other kubeconfigs (exec plugins, client certificates) go to helm alone, and our dry-run and diagnostics say they were skipped",
    );
    return {
      bench: "kube-client",
      setup: `@kubernetes/client-node ${CLIENT_NODE_VERSION} against ours in deploy-helm's bundle; ${RUNS} interleaved cold starts per line (no compile cache), ${PLAN_RUNS} plans each against the local control plane`,
      metrics,
      notes,
      comparison: {
        head: ["", "our client", `client-node ${CLIENT_NODE_VERSION}`, "client-node / ours"],
        rows,
      },
      details: { coldStarts: Object.fromEntries(samples), calls: CALLS },
    };
  } finally {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  await report(await runKubeClient());
}
