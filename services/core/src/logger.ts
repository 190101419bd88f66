import { type Logger, pino } from "pino";

export type { Logger };

/** JSON-lines logger; every line carries the service name, and request-scoped children add requestId. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ["req.headers.authorization", "authorization"], censor: "[redacted]" },
  });
}
