// Just enough of the Kubernetes API for deploy-helm and its proofs, read with the kubeconfig
// deploy-helm already has (server, CA, bearer token): no kubectl, and no client library whose
// size every action's cold start would pay for (@kubernetes/client-node is several MB bundled).
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { parse } from "yaml";

export interface KubeAccess {
  server: string;
  /** base64 PEM, as in certificate-authority-data */
  certificateAuthority?: string;
  token: string;
}

interface Kubeconfig {
  "current-context"?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: { server: string; "certificate-authority-data"?: string } }[];
  users?: { name: string; user: { token?: string } }[];
}

/** Server, CA and token of the current context; undefined when the user authenticates another way. */
export function kubeAccessFromConfig(file: string): KubeAccess | undefined {
  const config = parse(readFileSync(file, "utf8")) as Kubeconfig;
  const context = config.contexts?.find((c) => c.name === config["current-context"])?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const token = config.users?.find((u) => u.name === context?.user)?.user.token;
  if (!cluster?.server || !token) return undefined;
  return { server: cluster.server, certificateAuthority: cluster["certificate-authority-data"], token };
}

/** An answer of the API server that is not a success: carries the HTTP status and the Status message. */
export class KubeApiError extends Error {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly reason: string;

  constructor(method: string, path: string, status: number, reason: string) {
    super(`${method} ${path} answered ${status}: ${reason}`);
    this.name = "KubeApiError";
    this.method = method;
    this.path = path;
    this.status = status;
    this.reason = reason;
  }
}

export interface KubeRequestOptions {
  body?: unknown;
  /** Default application/json; server-side apply uses application/apply-patch+yaml. */
  contentType?: string;
  timeoutMs?: number;
}

/** One call to the API server; resolves the parsed JSON answer, rejects with KubeApiError on >= 400. */
export function kubeRequest<T>(
  access: KubeAccess,
  method: string,
  path: string,
  options: KubeRequestOptions = {},
): Promise<T> {
  const url = new URL(path, access.server);
  const payload =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          authorization: `Bearer ${access.token}`,
          accept: "application/json",
          ...(payload === undefined
            ? {}
            : {
                "content-type": options.contentType ?? "application/json",
                "content-length": Buffer.byteLength(payload),
              }),
        },
        ca: access.certificateAuthority ? Buffer.from(access.certificateAuthority, "base64") : undefined,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 500;
          if (status >= 400) {
            let reason = text.trim().slice(0, 500);
            try {
              reason = (JSON.parse(text) as { message?: string }).message ?? reason;
            } catch {
              // not a Status object: keep the text
            }
            reject(new KubeApiError(method, url.pathname, status, reason));
            return;
          }
          // Health endpoints (/readyz, /livez) answer plain text.
          if (!String(res.headers["content-type"] ?? "").includes("json")) {
            resolve(text as T);
            return;
          }
          try {
            resolve((text ? JSON.parse(text) : {}) as T);
          } catch {
            reject(new Error(`${method} ${url.pathname}: the answer is not JSON`));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${url.pathname} timed out`)));
    req.on("error", reject);
    req.end(payload);
  });
}

export function getJson<T>(access: KubeAccess, path: string, timeoutMs = 10_000): Promise<T> {
  return kubeRequest<T>(access, "GET", path, { timeoutMs });
}

interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string };
}

const eventTime = (e: KubeEvent) => Date.parse(e.lastTimestamp ?? e.eventTime ?? "") || 0;

function eventLine(e: KubeEvent): string {
  return `${e.type ?? "Normal"} ${e.reason ?? ""} ${e.involvedObject?.kind ?? "?"}/${e.involvedObject?.name ?? "?"}${e.count && e.count > 1 ? ` (x${e.count})` : ""}: ${e.message ?? ""}`;
}

function eventsPath(namespace: string, fieldSelector?: string): string {
  const query = fieldSelector ? `?fieldSelector=${encodeURIComponent(fieldSelector)}` : "";
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/events${query}`;
}

/** The newest events of the namespace as one line each, warnings first within equal times. */
export async function recentEvents(
  access: KubeAccess,
  namespace: string,
  limit = 15,
  timeoutMs = 5000,
): Promise<string[]> {
  const list = await getJson<{ items?: KubeEvent[] }>(access, eventsPath(namespace), timeoutMs);
  return (list.items ?? [])
    .sort((a, b) => eventTime(b) - eventTime(a) || (a.type === "Warning" ? -1 : 1))
    .slice(0, limit)
    .map(eventLine);
}

export interface FailingPod {
  name: string;
  /** Pod phase and readiness now, or "deleted" when the rollback already removed it. */
  state: string;
  /** Its Warning events, newest first, one line each. */
  events: string[];
}

interface KubePod {
  metadata: { name: string; deletionTimestamp?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean; state?: Record<string, { reason?: string }> }[];
  };
}

function podState(pod: KubePod): string {
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  const waiting = (pod.status?.containerStatuses ?? [])
    .filter((c) => !c.ready)
    .map((c) => `${c.name} not ready`)
    .join(", ");
  return `${pod.status?.phase ?? "Unknown"}${ready ? ", Ready" : `, not Ready${waiting ? ` (${waiting})` : ""}`}${pod.metadata.deletionTimestamp ? ", terminating" : ""}`;
}

/**
 * The pods that reported Warning events since `since` (probe failures, back-offs, failed pulls),
 * with those events and their state now. Events outlive the pods, so this still names the pods of a
 * rollout that --atomic has already rolled back and deleted.
 */
export async function failingPods(
  access: KubeAccess,
  namespace: string,
  since: Date,
  options: { limit?: number; timeoutMs?: number } = {},
): Promise<FailingPod[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const events = await getJson<{ items?: KubeEvent[] }>(
    access,
    eventsPath(namespace, "involvedObject.kind=Pod,type=Warning"),
    timeoutMs,
  );
  const byPod = new Map<string, KubeEvent[]>();
  for (const event of (events.items ?? []).filter((e) => eventTime(e) >= since.getTime() - 1000)) {
    const name = event.involvedObject?.name;
    if (name) byPod.set(name, [...(byPod.get(name) ?? []), event]);
  }
  const pods = await getJson<{ items?: KubePod[] }>(
    access,
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
    timeoutMs,
  );
  const live = new Map((pods.items ?? []).map((pod) => [pod.metadata.name, pod]));
  return [...byPod.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(0, options.limit ?? 10)
    .map(([name, list]) => {
      const pod = live.get(name);
      return {
        name,
        state: pod ? podState(pod) : "deleted",
        events: list.sort((a, b) => eventTime(b) - eventTime(a)).map(eventLine),
      };
    });
}

/** The API server's version (GET /version): also the cheapest proof that it answers and accepts the token. */
export async function serverVersion(access: KubeAccess, timeoutMs = 5000): Promise<string> {
  return (await getJson<{ gitVersion: string }>(access, "/version", timeoutMs)).gitVersion;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** Resolves kinds to their REST collection through discovery (one GET per group version). */
export function resourceResolver(access: KubeAccess) {
  const groups = new Map<string, Promise<ApiResource[]>>();
  return async (object: KubeObject, namespace: string): Promise<string> => {
    const base = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
    if (!groups.has(base))
      groups.set(
        base,
        getJson<{ resources: ApiResource[] }>(access, base).then((list) =>
          list.resources.filter((r) => !r.name.includes("/")),
        ),
      );
    const resources = await groups.get(base)!.catch((error: unknown) => {
      if (error instanceof KubeApiError && error.status === 404)
        throw new KubeApiError(
          "GET",
          base,
          404,
          `the server does not serve ${object.apiVersion} (CRD not installed?)`,
        );
      throw error;
    });
    const resource = resources.find((r) => r.kind === object.kind);
    if (!resource)
      throw new KubeApiError(
        "GET",
        base,
        404,
        `the server has no kind ${object.kind} in ${object.apiVersion}`,
      );
    const ns = resource.namespaced
      ? `/namespaces/${encodeURIComponent(object.metadata.namespace ?? namespace)}`
      : "";
    return `${base}${ns}/${resource.name}`;
  };
}

/**
 * Server-side apply with dryRun=All and strict field validation: the API server runs defaulting,
 * schema validation (CRDs included) and every admission plugin, and stores nothing.
 * Returns one line per object the server refused.
 */
export async function dryRunApply(
  access: KubeAccess,
  objects: readonly KubeObject[],
  namespace: string,
  fieldManager = "content-engine",
): Promise<string[]> {
  const collection = resourceResolver(access);
  const refused: string[] = [];
  for (const object of objects) {
    try {
      const path = `${await collection(object, namespace)}/${encodeURIComponent(object.metadata.name)}`;
      const query = `?dryRun=All&fieldManager=${encodeURIComponent(fieldManager)}&force=true&fieldValidation=Strict`;
      await kubeRequest(access, "PATCH", `${path}${query}`, {
        body: object,
        contentType: "application/apply-patch+yaml",
      });
    } catch (error) {
      const reason = error instanceof KubeApiError ? error.reason : (error as Error).message;
      refused.push(`${object.kind} ${object.metadata.name}: ${reason}`);
    }
  }
  return refused;
}
