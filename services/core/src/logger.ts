import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { DestinationStream, Logger };

/**
 * JSON-lines logger; every line carries the service name, and request-scoped children add requestId.
 * Lines go to stdout synchronously: pino's default destination buffers them in the process, and a
 * SIGKILL (an OOM kill, a node drained hard) lost lines that said a job had succeeded.
 */
export function createLogger(
  service: string,
  level = process.env.LOG_LEVEL ?? "info",
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ["req.headers.authorization", "authorization"], censor: "[redacted]" },
  };
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
