// Just enough of the Kubernetes API for diagnostics: recent events of a namespace, read with the
// kubeconfig deploy-helm already has (server, CA, bearer token). No kubectl needed.
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

interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string };
}

function getJson<T>(access: KubeAccess, path: string, timeoutMs: number): Promise<T> {
  const url = new URL(path, access.server);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        headers: { authorization: `Bearer ${access.token}`, accept: "application/json" },
        ca: access.certificateAuthority ? Buffer.from(access.certificateAuthority, "base64") : undefined,
        timeout: timeoutMs,
      },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on("end", () => {
          if ((res.statusCode ?? 500) >= 400)
            reject(new Error(`GET ${url.pathname} answered ${res.statusCode}`));
          else resolve(JSON.parse(body) as T);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${url.pathname} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** The newest events of the namespace as one line each, warnings first within equal times. */
export async function recentEvents(
  access: KubeAccess,
  namespace: string,
  limit = 15,
  timeoutMs = 5000,
): Promise<string[]> {
  const list = await getJson<{ items?: KubeEvent[] }>(
    access,
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
    timeoutMs,
  );
  const time = (e: KubeEvent) => Date.parse(e.lastTimestamp ?? e.eventTime ?? "") || 0;
  return (list.items ?? [])
    .sort((a, b) => time(b) - time(a) || (a.type === "Warning" ? -1 : 1))
    .slice(0, limit)
    .map(
      (e) =>
        `${e.type ?? "Normal"} ${e.reason ?? ""} ${e.involvedObject?.kind ?? "?"}/${e.involvedObject?.name ?? "?"}${e.count && e.count > 1 ? ` (x${e.count})` : ""}: ${e.message ?? ""}`,
    );
}
