// The Kubernetes API client of deploy-helm and its proofs: the server, CA and bearer token of a
// kubeconfig, and one HTTPS request function. No kubectl, and no @kubernetes/client-node: for the seven
// plain calls we make it would take deploy-helm's bundle from 0.7 to 2.5 MiB and add about 150 ms of CPU
// before the first request (bench/kube-client.ts; actions/deploy-helm/README.md, "Kubernetes client").
// What the calls are for lives beside: kube-connection.ts (reaching the cluster), kube-diagnostics.ts
// (events, failing pods) and kube-dry-run.ts (server-side dry-run apply).
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

/** The API server's version (GET /version): also the cheapest proof that it answers and accepts the token. */
export async function serverVersion(access: KubeAccess, timeoutMs = 5000): Promise<string> {
  return (await getJson<{ gitVersion: string }>(access, "/version", timeoutMs)).gitVersion;
}
