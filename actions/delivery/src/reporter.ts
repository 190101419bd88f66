// Where progress goes: the job log in an action, stdout in the CLI, an array in tests.
export interface Reporter {
  info(line: string): void;
  warn(line: string): void;
  /** Marks a value as secret (core.setSecret in actions) before anything can print it. */
  secret(value: string): void;
}

export const consoleReporter: Reporter = {
  info: (line) => process.stdout.write(`${line}\n`),
  warn: (line) => process.stderr.write(`warning: ${line}\n`),
  secret: () => {},
};

export function memoryReporter(): Reporter & { lines: string[]; secrets: string[] } {
  const lines: string[] = [];
  const secrets: string[] = [];
  return {
    lines,
    secrets,
    info: (line) => lines.push(line),
    warn: (line) => lines.push(`warning: ${line}`),
    secret: (value) => secrets.push(value),
  };
}
