import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const LOGGER = fileURLToPath(new URL("../src/logger.ts", import.meta.url));

/** Runs a process that logs `lines` lines through createLogger, then SIGKILLs itself at once. */
function logThenSigkill(lines: number): Promise<{ stdout: string; signal: NodeJS.Signals | null }> {
  const script = `
    import { createLogger } from ${JSON.stringify(LOGGER)};
    const log = createLogger("worker", "info");
    for (let i = 0; i < ${lines}; i++) log.info({ jobId: "job-" + i }, "job succeeded");
    process.kill(process.pid, "SIGKILL");
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.on("data", (d) => {
    stdout += String(d);
  });
  return new Promise((resolve) => child.on("close", (_code, signal) => resolve({ stdout, signal })));
}

describe("logger", () => {
  it("has every line on stdout when the process is SIGKILLed right after logging it", async () => {
    const { stdout, signal } = await logThenSigkill(50);
    expect(signal).toBe("SIGKILL");
    const logged = stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; jobId: string });
    expect(logged.map((l) => l.jobId)).toEqual(Array.from({ length: 50 }, (_, i) => `job-${i}`));
    expect(logged.every((l) => l.msg === "job succeeded")).toBe(true);
  });
});
