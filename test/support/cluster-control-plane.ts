// A real Kubernetes control plane on loopback, no container engine: etcd, kube-apiserver (token
// file + RBAC), kube-controller-manager (node lifecycle on), kube-scheduler and kwok with one fake
// node, all built by scripts/setup-tools.sh. kwok plays the kubelet: pods are scheduled, get an IP
// and turn Ready as its Stages say, which the tests change through the Stage API.
//
//   const c = await startCluster()   // scripts/cluster.ts; await c.stop() ends it
//   const cluster = useCluster()      // vitest (test/support/cluster.ts): started before the file's tests
//
// Everything lives in one temp dir; stop() ends exactly the processes it started and removes it.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { type KubeAccess, KubeApiError, kubeRequest } from "../../actions/delivery/src/kube.ts";
import { memoryReporter } from "../../actions/delivery/src/reporter.ts";
import { waitFor } from "../../actions/delivery/src/wait.ts";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import { freePort } from "./moto.ts";

/** Manifests setup-tools.sh copies out of the pinned Go modules (KEDA, Prometheus Operator, kwok). */
export const clusterManifests: string = join(repoRoot, ".tools", "kubernetes");
/** The annotation kwok selects its nodes by (the name kwok's own docs use). */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
export const NODE_NAME = "kwok-node-0";

export interface Cluster {
  /** kubeconfig of the cluster admin (system:masters), for helm, deploy-helm and people. */
  kubeconfig: string;
  server: string;
  access: KubeAccess;
  /** The temp dir holding certificates, data, logs and the kubeconfigs. */
  dir: string;
  /** Milliseconds from the first spawn to a schedulable node. */
  readyMs: number;
  /** Process ids of the components it started, by name. */
  pids: Record<string, number>;
  /** Last lines of one component's log (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok). */
  log(component: string, lines?: number): string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Keep the temp dir after stop (for a person reading the logs). */
  keepDir?: boolean;
  startTimeoutMs?: number;
}

interface Component {
  name: string;
  child: ChildProcess;
}

function openssl(args: string[]) {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
}

/** A CA and a serving certificate for 127.0.0.1/localhost (EC P-256: fast to make). */
function makeCertificates(dir: string) {
  const ca = { key: join(dir, "ca.key"), cert: join(dir, "ca.crt") };
  const server = {
    key: join(dir, "apiserver.key"),
    cert: join(dir, "apiserver.crt"),
    csr: join(dir, "apiserver.csr"),
  };
  const ext = join(dir, "apiserver.ext");
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ca.key]);
  openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    ca.key,
    "-subj",
    "/CN=local-kubernetes-ca",
    "-days",
    "2",
    "-out",
    ca.cert,
  ]);
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", server.key]);
  openssl(["req", "-new", "-key", server.key, "-subj", "/CN=kube-apiserver", "-out", server.csr]);
  writeFileSync(
    ext,
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n",
  );
  openssl([
    "x509",
    "-req",
    "-in",
    server.csr,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    ext,
    "-out",
    server.cert,
  ]);
  const serviceAccount = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const sa = { key: join(dir, "sa.key"), pub: join(dir, "sa.pub") };
  writeFileSync(sa.key, serviceAccount.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  writeFileSync(sa.pub, serviceAccount.publicKey.export({ type: "spki", format: "pem" }));
  return { ca, server, sa };
}

function kubeconfigFor(server: string, caCert: string, user: string, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "local",
        cluster: { server, "certificate-authority-data": readFileSync(caCert).toString("base64") },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: "local", context: { cluster: "local", user, namespace: "default" } }],
    "current-context": "local",
  });
}

/** Every document of the YAML files in a folder (a missing folder means setup-tools has not run). */
function manifestsIn(folder: string): Record<string, unknown>[] {
  if (!existsSync(folder)) throw new Error(`${folder} is missing: run npm run setup:tools`);
  return readdirSync(folder)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .flatMap((file) => parseAllDocuments(readFileSync(join(folder, file), "utf8")).map((doc) => doc.toJS()))
    .filter((doc): doc is Record<string, unknown> => doc !== null && typeof doc === "object");
}

/** Creates an object, or replaces it when it exists (for CRDs and Stages the helper owns). */
export async function createOrReplace(
  access: KubeAccess,
  collection: string,
  object: Record<string, unknown>,
) {
  const name = (object.metadata as { name: string }).name;
  try {
    return await kubeRequest(access, "POST", collection, { body: object });
  } catch (error) {
    if (!(error instanceof KubeApiError) || error.status !== 409) throw error;
    const live = await kubeRequest<{ metadata: { resourceVersion: string } }>(
      access,
      "GET",
      `${collection}/${name}`,
    );
    const metadata = { ...(object.metadata as object), resourceVersion: live.metadata.resourceVersion };
    return kubeRequest(access, "PUT", `${collection}/${name}`, { body: { ...object, metadata } });
  }
}

/**
 * Polls `check` every 100 ms until it returns a value; after the deadline throws `what` with the
 * last error. `guard` runs before each poll and its throw ends the wait at once (a dead process).
 */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  guard?: () => void,
): Promise<T> {
  const result = await waitFor<T>({
    poll: async () => {
      guard?.();
      try {
        const value = await check();
        return value === undefined ? { progress: "" } : { done: value };
      } catch (error) {
        return { progress: (error as Error).message };
      }
    },
    pollMs: 100,
    progressMs: timeoutMs,
    timeoutMs,
    reporter: memoryReporter(),
  });
  if (result.status === "done") return result.value;
  throw new Error(
    `${what} within ${timeoutMs} ms${result.lastProgress ? ` (last error: ${result.lastProgress})` : ""}`,
  );
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const started = performance.now();
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const binaries = Object.fromEntries(
    ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"].map((name) => [
      name,
      toolPath(name),
    ]),
  );
  const crds = manifestsIn(join(clusterManifests, "crds"));
  const stages = manifestsIn(join(clusterManifests, "kwok-stages"));
  const dir = mkdtempSync(join(tmpdir(), "kube-"));
  const logs = join(dir, "logs");
  mkdirSync(logs);
  const components: Component[] = [];

  const stop = async () => {
    for (const { child } of components.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    components.length = 0;
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const log = (component: string, lines = 30) => {
    const file = join(logs, `${component}.log`);
    return existsSync(file) ? readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "";
  };
  const launch = (name: string, args: string[]) => {
    const out = createWriteStream(join(logs, `${name}.log`));
    const child = spawn(binaries[name]!, args, { stdio: ["ignore", "pipe", "pipe"], cwd: dir });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    components.push({ name, child });
    return child;
  };
  const alive = () => {
    const dead = components.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
    if (dead)
      throw new Error(
        `${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}):\n${log(dead.name)}`,
      );
  };

  try {
    const certs = makeCertificates(dir);
    const [etcdPort, peerPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const server = `https://127.0.0.1:${apiPort}`;

    launch("etcd", [
      "--name=local",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=local=http://127.0.0.1:${peerPort}`,
      // A throw-away cluster: durability buys nothing, fsync costs seconds on a busy disk.
      "--unsafe-no-fsync",
      "--log-level=warn",
    ]);

    // One token per component; the admin and the components are cluster admins (a local cluster).
    const tokens: Record<string, { user: string; groups: string }> = {};
    const tokenFor = (user: string, groups: string) => {
      const token = randomBytes(24).toString("hex");
      tokens[token] = { user, groups };
      return token;
    };
    const adminToken = tokenFor("admin", "system:masters");
    const componentTokens = {
      "kube-controller-manager": tokenFor("system:kube-controller-manager", "system:masters"),
      "kube-scheduler": tokenFor("system:kube-scheduler", "system:masters"),
      kwok: tokenFor("kwok", "system:masters"),
    };
    writeFileSync(
      join(dir, "tokens.csv"),
      Object.entries(tokens)
        .map(([token, { user, groups }]) => `${token},${user},${user},"${groups}"`)
        .join("\n"),
      { mode: 0o600 },
    );
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, kubeconfigFor(server, certs.ca.cert, "admin", adminToken), { mode: 0o600 });
    const kubeconfigs = Object.fromEntries(
      Object.entries(componentTokens).map(([name, token]) => {
        const file = join(dir, `${name}.kubeconfig`);
        writeFileSync(file, kubeconfigFor(server, certs.ca.cert, name, token), { mode: 0o600 });
        return [name, file];
      }),
    );

    await until(
      "etcd did not answer /health",
      async () => {
        const response = await fetch(`http://127.0.0.1:${etcdPort}/health`);
        return response.ok ? true : undefined;
      },
      timeoutMs,
      alive,
    );

    launch("kube-apiserver", [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${certs.server.cert}`,
      `--tls-private-key-file=${certs.server.key}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--anonymous-auth=false",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${certs.sa.pub}`,
      `--service-account-signing-key-file=${certs.sa.key}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      // The endpoint reconciler refuses a loopback advertise address; nothing here needs it.
      "--endpoint-reconciler-type=none",
      `--cert-dir=${join(dir, "apiserver-certs")}`,
      "--profiling=false",
      "--v=1",
    ]);
    const access: KubeAccess = {
      server,
      certificateAuthority: readFileSync(certs.ca.cert).toString("base64"),
      token: adminToken,
    };
    await until(
      "kube-apiserver did not become ready",
      async () => {
        await kubeRequest(access, "GET", "/readyz", { timeoutMs: 2000 });
        return true;
      },
      timeoutMs,
      alive,
    );

    launch("kube-controller-manager", [
      `--kubeconfig=${kubeconfigs["kube-controller-manager"]}`,
      "--leader-elect=false",
      "--secure-port=0",
      `--service-account-private-key-file=${certs.sa.key}`,
      `--root-ca-file=${certs.ca.cert}`,
      // kwok renews the node's lease; on a loaded machine a renewal can come later than the default
      // 50 s, and the node lifecycle controller then marks the node and every pod on it NotReady
      // ("NodeNotReady" events). kwok's pod-ready Stage readies only pods without an IP, so those pods
      // would stay NotReady for good and every later rollout wait would time out. An hour of grace:
      // the node is never unreachable here, and the controller still lifts the not-ready taint.
      "--node-monitor-grace-period=1h",
      "--v=1",
    ]);
    launch("kube-scheduler", [
      `--kubeconfig=${kubeconfigs["kube-scheduler"]}`,
      "--leader-elect=false",
      "--secure-port=0",
      "--v=1",
    ]);

    for (const crd of crds)
      await createOrReplace(access, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
    for (const crd of crds) {
      const name = (crd.metadata as { name: string }).name;
      await until(
        `CustomResourceDefinition ${name} was not established`,
        async () => {
          const live = await kubeRequest<{ status?: { conditions?: { type: string; status: string }[] } }>(
            access,
            "GET",
            `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
          );
          return live.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")
            ? true
            : undefined;
        },
        timeoutMs,
      );
    }
    for (const stage of stages) await createOrReplace(access, "/apis/kwok.x-k8s.io/v1alpha1/stages", stage);

    await kubeRequest(access, "POST", "/api/v1/nodes", {
      body: {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: NODE_NAME,
          annotations: { [KWOK_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
          labels: {
            "kubernetes.io/hostname": NODE_NAME,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "node-role.kubernetes.io/agent": "",
            type: "kwok",
          },
        },
        status: {
          allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
          capacity: { cpu: "32", memory: "256Gi", pods: "110" },
          nodeInfo: {
            architecture: "amd64",
            operatingSystem: "linux",
            kubeletVersion: "fake",
            kubeProxyVersion: "fake",
          },
        },
      },
    });
    // An explicit (empty) configuration, so a person's ~/.kwok/kwok.yaml does not change the cluster.
    writeFileSync(
      join(dir, "kwok.yaml"),
      "apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\n",
    );
    launch("kwok", [
      `--kubeconfig=${kubeconfigs.kwok}`,
      `--config=${join(dir, "kwok.yaml")}`,
      "--manage-all-nodes=false",
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      "--enable-crds=Stage",
      "--cidr=10.244.0.0/16",
      "--node-ip=10.0.0.10",
    ]);

    // Schedulable: kwok reported Ready and the node lifecycle controller lifted the not-ready taint.
    await until(
      `node ${NODE_NAME} did not become Ready and untainted`,
      async () => {
        const node = await kubeRequest<{
          spec?: { taints?: unknown[] };
          status?: { conditions?: { type: string; status: string }[] };
        }>(access, "GET", `/api/v1/nodes/${NODE_NAME}`);
        const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
        return ready && !node.spec?.taints?.length ? true : undefined;
      },
      timeoutMs,
      alive,
    );
    // Pods need the namespace's default ServiceAccount (ServiceAccount admission): wait for the controller.
    await until(
      "the default ServiceAccount was not created",
      async () => {
        await kubeRequest(access, "GET", "/api/v1/namespaces/default/serviceaccounts/default");
        return true;
      },
      timeoutMs,
      alive,
    );

    const pids = Object.fromEntries(components.map(({ name, child }) => [name, child.pid!]));
    return {
      kubeconfig,
      server,
      access,
      dir,
      pids,
      readyMs: Math.round(performance.now() - started),
      log,
      stop,
    };
  } catch (error) {
    const message = (error as Error).message;
    const tails = components.map(({ name }) => `--- ${name}\n${log(name, 15)}`).join("\n");
    await stop();
    throw new Error(`cannot start the local Kubernetes control plane: ${message}\n${tails}`);
  }
}

/**
 * A kwok Stage (created through the Stage API, effective at once) under which pods running `image`
 * start but never turn Ready, and report a failing readiness probe as a Warning event: the state of
 * a release whose new image is broken. Wins over kwok's pod-ready Stage by its weight.
 */
export function neverReadyStage(name: string, image: string) {
  return {
    apiVersion: "kwok.x-k8s.io/v1alpha1",
    kind: "Stage",
    metadata: { name },
    spec: {
      resourceRef: { apiGroup: "v1", kind: "Pod" },
      selector: {
        matchExpressions: [
          { key: ".metadata.deletionTimestamp", operator: "DoesNotExist" },
          { key: ".status.podIP", operator: "DoesNotExist" },
          { key: ".spec.containers.[].image", operator: "In", values: [image] },
        ],
      },
      weight: 1,
      next: {
        event: {
          type: "Warning",
          reason: "Unhealthy",
          message: "Readiness probe failed: HTTP probe failed with statuscode: 503",
        },
        statusTemplate: [
          "{{ $now := Now }}",
          "conditions:",
          '- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}',
          '- {lastTransitionTime: {{ $now | Quote }}, status: "False", type: Ready, reason: ContainersNotReady}',
          '- {lastTransitionTime: {{ $now | Quote }}, status: "False", type: ContainersReady, reason: ContainersNotReady}',
          "containerStatuses:",
          "{{ range .spec.containers }}",
          "- image: {{ .image | Quote }}",
          "  name: {{ .name | Quote }}",
          "  ready: false",
          "  started: true",
          "  restartCount: 0",
          "  state:",
          "    running:",
          "      startedAt: {{ $now | Quote }}",
          "{{ end }}",
          "hostIP: {{ NodeIPWith .spec.nodeName | Quote }}",
          'podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}',
          "phase: Running",
          "startTime: {{ $now | Quote }}",
        ].join("\n"),
      },
    },
  };
}
