// The console's client for the content-engine HTTP API (same origin; the key travels only in a header).
import type { JobResult, JobStatusValue, Task } from "@content-engine/core";

export type { JobResult, JobStatusValue, Task };

export interface JobView {
  jobId: string;
  status: JobStatusValue;
  createdAt: string;
  updatedAt: string;
  input: { filename: string; contentType: string; size: number };
  error?: { code: string; message: string };
}

export interface JobAccepted {
  jobId: string;
  status: "queued";
  links: { self: string; result: string };
}

export interface ConsoleConfig {
  /** The API's upload limit in bytes, from `/config.json`; undefined when the server did not say. */
  maxUploadBytes: number | undefined;
}

/** An error answer of the API (`{"error":{"code","message"}}`), or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Seconds from a `Retry-After` header, when the server sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** What the person at the keyboard should read for an API error: what happened and what to do. */
export function describeError(error: unknown, maxUploadBytes?: number): string {
  if (!(error instanceof ApiError)) {
    return `Something went wrong: ${error instanceof Error ? error.message : String(error)}`;
  }
  switch (error.status) {
    case 0:
      return "The API could not be reached. Check your connection and try again.";
    case 401:
      return "The API key was not accepted. Check the key and sign in again.";
    case 404:
      return "This job was not found. It may belong to another API key.";
    case 413:
      return maxUploadBytes
        ? `The file is too large: the limit is ${formatBytes(maxUploadBytes)}.`
        : "The file is too large for the server.";
    case 415:
      return "This file type is not supported. Upload plain text, Markdown, HTML or JSON.";
    case 429:
    case 503: {
      const wait = error.retryAfterSeconds;
      return wait
        ? `The service is busy right now. Try again in ${wait} second${wait === 1 ? "" : "s"}.`
        : "The service is busy right now. Try again in a moment.";
    }
    default:
      return error.status >= 500
        ? `The server failed (${error.status}): ${error.message}`
        : `The request was refused (${error.status}): ${error.message}`;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, "");
  return `${text} ${units[unit]}`;
}

function retryAfter(res: Response): number | undefined {
  const header = res.headers.get("retry-after");
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = "http_error";
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON (a proxy's page, say): keep the status text.
  }
  return new ApiError(res.status, code, message, retryAfter(res));
}

export type Fetch = typeof fetch;

export class ApiClient {
  readonly #key: string;
  readonly #fetch: Fetch;
  readonly #base: string;

  constructor(key: string, options: { fetch?: Fetch; baseUrl?: string } = {}) {
    this.#key = key;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#base = options.baseUrl ?? "";
  }

  async #request<T>(path: string, init: RequestInit = {}): Promise<T> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${this.#key}`, accept: "application/json", ...init.headers },
        cache: "no-store",
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError(0, "network_error", error instanceof Error ? error.message : String(error));
    }
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as T;
  }

  /**
   * Checks the key without creating anything: asks for a job id that cannot exist. A good key gets
   * 404 (no such job), a bad one 401.
   */
  async verifyKey(): Promise<void> {
    try {
      await this.#request("/v1/jobs/00000000-0000-4000-8000-000000000000");
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return;
      throw error;
    }
  }

  submit(file: File, tasks: readonly Task[]): Promise<JobAccepted> {
    const form = new FormData();
    if (tasks.length > 0) form.append("tasks", tasks.join(","));
    form.append("file", file, file.name);
    return this.#request<JobAccepted>("/v1/jobs", { method: "POST", body: form });
  }

  getJob(jobId: string, signal?: AbortSignal): Promise<JobView> {
    return this.#request<JobView>(`/v1/jobs/${encodeURIComponent(jobId)}`, signal ? { signal } : {});
  }

  getResult(jobId: string, signal?: AbortSignal): Promise<JobResult> {
    return this.#request<JobResult>(`/v1/jobs/${encodeURIComponent(jobId)}/result`, signal ? { signal } : {});
  }
}

/** The server's limits for this console (`/config.json`, served by the API next to the console). */
export async function loadConsoleConfig(
  fetchImpl: Fetch = (i, init) => fetch(i, init),
): Promise<ConsoleConfig> {
  try {
    const res = await fetchImpl("/config.json", { cache: "no-store" });
    if (!res.ok) return { maxUploadBytes: undefined };
    const body = (await res.json()) as { maxUploadBytes?: unknown };
    const max = body.maxUploadBytes;
    return { maxUploadBytes: typeof max === "number" && max > 0 ? max : undefined };
  } catch {
    return { maxUploadBytes: undefined };
  }
}
