/**
 * The one error type of the runtime: a stable machine `code`, a sentence for people, and the HTTP
 * status it maps to at the edge. Anything else that escapes is an internal error.
 */
export class ServiceError extends Error {
  readonly code: string;
  readonly status: number;
  /** Seconds a client should wait before retrying (503s). */
  readonly retryAfter: number | undefined;
  /** Extra response headers (e.g. `allow` on a 405). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { cause?: unknown; retryAfter?: number; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ServiceError";
    this.status = status;
    this.code = code;
    this.retryAfter = options?.retryAfter;
    this.headers = options?.headers ?? {};
  }
}

/** A configuration value that is missing or wrong: names the variable and what was expected. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
