// `npm run cluster`: a local Kubernetes control plane for people (the one the tests use), until Ctrl-C.
//   npm run cluster                      prints the kubeconfig path, then waits
//   npm run cluster -- --kubeconfig F    also copies the admin kubeconfig to F (removed on exit)
// Needs the tools of `npm run setup:tools` (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok, the CRDs). Stops exactly the processes it started, and removes its temp dir,
// on Ctrl-C (SIGINT to the terminal's process group) or a SIGTERM sent to this node process; npm itself
// does not forward a SIGTERM sent to it, so a supervisor should run `node scripts/cluster.ts`.
import { copyFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startCluster } from "../test/support/cluster-control-plane.ts";

function usage(message: string): never {
  process.stderr.write(
    `npm run cluster: ${message}\nusage: npm run cluster [-- --kubeconfig FILE] [--keep]\n`,
  );
  process.exit(2);
}

let args: { kubeconfig?: string; keep?: boolean };
try {
  args = parseArgs({
    options: { kubeconfig: { type: "string" }, keep: { type: "boolean" } },
    strict: true,
  }).values;
} catch (error) {
  usage((error as Error).message);
}

let cluster: Awaited<ReturnType<typeof startCluster>>;
try {
  cluster = await startCluster({ keepDir: args.keep });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
const copy = args.kubeconfig ? resolve(args.kubeconfig) : undefined;
if (copy) copyFileSync(cluster.kubeconfig, copy);
const kubeconfig = copy ?? cluster.kubeconfig;

process.stdout.write(
  [
    `Kubernetes v1.34 control plane ready in ${(cluster.readyMs / 1000).toFixed(1)} s at ${cluster.server}`,
    "  one kwok node (kwok-node-0); KEDA, Prometheus Operator and kwok Stage CRDs installed",
    `  logs: ${cluster.dir}/logs`,
    "",
    `export KUBECONFIG=${kubeconfig}`,
    "",
    "Deploy the chart as CI does (see README, EKS):",
    `  npx content-engine deploy-helm --env dev --kubeconfig ${kubeconfig}`,
    "Ctrl-C stops the cluster.",
    "",
  ].join("\n"),
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the control plane\n`);
  await cluster.stop();
  if (copy) rmSync(copy, { force: true });
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
setInterval(() => {}, 1 << 30);
