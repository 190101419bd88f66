// Why a rollout failed, read from the API server: the namespace's newest events, and the pods that
// reported Warning events (probe failures, back-offs, failed pulls) with those events and their state.
import { getJson, type KubeAccess } from "./kube.ts";

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

/**
 * Why the rollout failed, for the outcome's diagnostics: the pods that reported Warning events since
 * the upgrade began, with their events (they outlive pods that --atomic already deleted); else the
 * namespace's newest events. Never throws: what cannot be read becomes a line saying so.
 *
 * @example
 * const { pods, lines } = await rolloutDiagnostics(access, "content-engine", upgradeStarted);
 * // lines: ["failing pod content-engine-api-…-x (Running, not Ready (api not ready)):", "  event: Warning Unhealthy …"]
 */
export async function rolloutDiagnostics(
  access: KubeAccess | undefined,
  namespace: string,
  since: Date,
): Promise<{ pods: FailingPod[]; lines: string[] }> {
  if (!access) return { pods: [], lines: ["events: the kubeconfig has no bearer token to read them with"] };
  try {
    const pods = await failingPods(access, namespace, since);
    if (pods.length)
      return {
        pods,
        lines: pods.flatMap((pod) => [
          `failing pod ${pod.name} (${pod.state}):`,
          ...pod.events.map((line) => `  event: ${line}`),
        ]),
      };
    const events = await recentEvents(access, namespace);
    return {
      pods,
      lines: events.length ? events.map((line) => `event: ${line}`) : [`events: none in ${namespace}`],
    };
  } catch (error) {
    return { pods: [], lines: [`events: could not read them (${(error as Error).message})`] };
  }
}
