// Live job status: poll GET /v1/jobs/{id} with backoff until the job is finished.
import { type ApiClient, ApiError, type JobView } from "./api.ts";

export interface PollPolicy {
  /** First wait after a submit, in ms. */
  initialMs: number;
  /** Each unchanged answer multiplies the wait by this. */
  factor: number;
  /** The wait never grows past this. */
  maxMs: number;
}

export const DEFAULT_POLL_POLICY: PollPolicy = { initialMs: 500, factor: 1.6, maxMs: 8000 };

/** The wait before poll number `attempt` (0-based) when nothing changed in between. */
export function backoffDelay(attempt: number, policy: PollPolicy = DEFAULT_POLL_POLICY): number {
  return Math.min(policy.maxMs, Math.round(policy.initialMs * policy.factor ** attempt));
}

export interface WatchHandlers {
  onUpdate(job: JobView): void;
  /** `final` is true when polling stopped because of the error (401, 404). */
  onError(error: unknown, final: boolean): void;
}

export function isFinished(status: JobView["status"]): boolean {
  return status === "succeeded" || status === "failed";
}

/**
 * Polls one job until it succeeds or fails, backing off while nothing changes (and starting over when
 * the status moves). A 503/429 waits at least its Retry-After; a network error keeps backing off;
 * 401 and 404 stop. Returns a function that stops the polling.
 */
export function watchJob(
  client: ApiClient,
  jobId: string,
  handlers: WatchHandlers,
  policy: PollPolicy = DEFAULT_POLL_POLICY,
): () => void {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let lastStatus: string | undefined;

  const schedule = (ms: number) => {
    if (!abort.signal.aborted) timer = setTimeout(tick, ms);
  };

  async function tick(): Promise<void> {
    try {
      const job = await client.getJob(jobId, abort.signal);
      if (abort.signal.aborted) return;
      if (job.status !== lastStatus) attempt = 0;
      lastStatus = job.status;
      handlers.onUpdate(job);
      if (isFinished(job.status)) return;
      schedule(backoffDelay(attempt++, policy));
    } catch (error) {
      if (abort.signal.aborted) return;
      const final = error instanceof ApiError && (error.status === 401 || error.status === 404);
      handlers.onError(error, final);
      if (final) return;
      const retryAfterMs = error instanceof ApiError ? (error.retryAfterSeconds ?? 0) * 1000 : 0;
      schedule(Math.max(backoffDelay(attempt++, policy), retryAfterMs));
    }
  }

  void tick();
  return () => {
    abort.abort();
    if (timer !== undefined) clearTimeout(timer);
  };
}
