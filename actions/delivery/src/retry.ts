// The one retry helper: exponential backoff with full jitter for transient failures.
export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Return false for errors that will not go away by retrying. */
  retryable?: (error: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const TRANSIENT =
  /Throttl|TooManyRequests|RequestLimitExceeded|ServiceUnavailable|InternalError|ECONNRESET|EAI_AGAIN|socket hang up|ResourceConflictException/;

export function isTransient(error: unknown): boolean {
  const err = error as { name?: string; message?: string; $retryable?: unknown; code?: string };
  if (err?.$retryable) return true;
  return TRANSIENT.test(`${err?.name ?? ""} ${err?.code ?? ""} ${err?.message ?? ""}`);
}

export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 10_000;
  const retryable = options.retryable ?? isTransient;
  const pause = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= attempts || !retryable(error)) throw error;
      const delayMs = Math.round(Math.random() * Math.min(max, base * 2 ** (attempt - 1)));
      options.onRetry?.(error, attempt, delayMs);
      await pause(delayMs);
    }
  }
}
