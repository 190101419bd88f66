// A small client of Grafana's HTTP API: the calls observability-apply makes, typed, with one place
// that retries transient failures and one place that turns a refused token into a sentence.
import { DeliveryError } from "./errors.ts";
import { type RetryOptions, withRetry } from "./retry.ts";

export interface GrafanaTarget {
  /** Base URL, e.g. https://grafana.example.com */
  url: string;
  /** Service-account token (sent as a Bearer token; masked before anything prints). */
  token: string;
  /** Folder the dashboards go to; empty: the General folder. */
  folderUid?: string;
  /**
   * What the deploy marker links: the workflow run (its job summary) and the GitHub deployment the
   * deploy steps of the job recorded. The action adapter fills it from the runner (grafanaTarget).
   */
  markerLinks?: { run?: string; deployment?: { id: number; url: string } };
}

/** A dashboard model as Grafana stores it (only `uid` is read here). */
export type DashboardModel = Record<string, unknown> & { uid?: string };

export interface StoredDashboard {
  dashboard: DashboardModel;
  meta?: { folderUid?: string };
}

export interface Folder {
  uid: string;
  title: string;
}

export interface Annotation {
  time: number;
  tags: string[];
  text: string;
}

/** Grafana answered with an HTTP status that retrying does not change. */
export class GrafanaHttpError extends DeliveryError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

class TransientGrafanaError extends Error {
  override name = "TransientGrafanaError";
}

/** fetch's own failure: no HTTP answer at all (refused, reset, DNS). */
const unreachable = (error: unknown) => error instanceof TypeError && /fetch failed/.test(error.message);

export interface GrafanaClientOptions {
  fetch?: typeof fetch;
  retry?: RetryOptions;
}

export class GrafanaClient {
  readonly base: string;
  private readonly token: string;
  private readonly doFetch: typeof fetch;
  private readonly retry: RetryOptions;

  constructor(target: Pick<GrafanaTarget, "url" | "token">, options: GrafanaClientOptions = {}) {
    this.base = target.url.replace(/\/+$/, "");
    this.token = target.token;
    this.doFetch = options.fetch ?? fetch;
    this.retry = { attempts: 4, baseDelayMs: 250, ...options.retry };
  }

  /** The folder, or undefined when Grafana has none with this uid. */
  getFolder(uid: string): Promise<Folder | undefined> {
    return this.request<Folder>(
      "GET",
      `/api/folders/${encodeURIComponent(uid)}`,
      undefined,
      `folder ${uid}`,
      {
        missingIsUndefined: true,
      },
    );
  }

  async createFolder(uid: string, title: string): Promise<Folder> {
    return (await this.request<Folder>("POST", "/api/folders", { uid, title }, `folder ${uid}`))!;
  }

  /** The dashboard and its folder, or undefined when Grafana has none with this uid. */
  getDashboard(uid: string): Promise<StoredDashboard | undefined> {
    return this.request<StoredDashboard>(
      "GET",
      `/api/dashboards/uid/${encodeURIComponent(uid)}`,
      undefined,
      `dashboard ${uid}`,
      { missingIsUndefined: true },
    );
  }

  async saveDashboard(dashboard: DashboardModel, folderUid: string, message: string): Promise<void> {
    await this.request(
      "POST",
      "/api/dashboards/db",
      { dashboard: { ...dashboard, id: null }, folderUid, overwrite: true, message },
      `dashboard ${String(dashboard.uid)}`,
    );
  }

  /** Posts an organisation annotation; answers its id (Grafana's `{ id, message }`), when Grafana gave one. */
  async annotate(annotation: Annotation): Promise<{ id: number | undefined }> {
    const answer = await this.request<{ id?: number }>(
      "POST",
      "/api/annotations",
      annotation,
      "the deploy marker",
    );
    return { id: typeof answer?.id === "number" ? answer.id : undefined };
  }

  /** A dashboard in Grafana's UI over [from, to] (epoch milliseconds). */
  dashboardUrl(uid: string, from: number, to: number): string {
    return `${this.base}/d/${encodeURIComponent(uid)}?from=${from}&to=${to}`;
  }

  private async request<T>(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    what: string,
    options: { missingIsUndefined?: boolean } = {},
  ): Promise<T | undefined> {
    const response = await withRetry(
      async () => {
        const answer = await this.doFetch(`${this.base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        // 429 and 5xx may pass; every other answer is final.
        if (answer.status === 429 || answer.status >= 500) {
          throw new TransientGrafanaError(
            `Grafana at ${this.base} answered HTTP ${answer.status} for ${what}`,
          );
        }
        return answer;
      },
      {
        ...this.retry,
        retryable: (error) => error instanceof TransientGrafanaError || unreachable(error),
      },
    ).catch((error: unknown) => {
      if (error instanceof TransientGrafanaError) throw new DeliveryError(error.message);
      if (unreachable(error)) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new DeliveryError(
          `Grafana at ${this.base} is unreachable (${cause?.code ?? cause?.message ?? "no answer"}) for ${what}: check grafana-url and the network`,
        );
      }
      throw error;
    });
    if (response.status === 401 || response.status === 403) {
      throw new GrafanaHttpError(
        response.status,
        `Grafana at ${this.base} refused the token (HTTP ${response.status}): give the service account the Editor role`,
      );
    }
    if (response.status === 404 && options.missingIsUndefined) return undefined;
    if (!response.ok) {
      const detail = (await response.text()).slice(0, 300);
      throw new GrafanaHttpError(
        response.status,
        `Grafana at ${this.base} refused ${what} (HTTP ${response.status})${detail ? `: ${detail}` : ""}`,
      );
    }
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T | undefined;
  }
}
