// Running external tools (docker, helm). Injectable so tests can observe argv without a Docker engine.
import { spawn } from "node:child_process";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Written to stdin (secrets go here, never in argv). */
  input?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Stream output lines as they come (long builds and helm waits). */
  onLine?: (line: string) => void;
}

export type CommandRunner = (
  command: string,
  args: readonly string[],
  options?: CommandOptions,
) => Promise<CommandResult>;

export const runCommand: CommandRunner = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const forward = (chunk: Buffer, sink: "out" | "err") => {
      const text = chunk.toString();
      if (sink === "out") stdout += text;
      else stderr += text;
      if (options.onLine) for (const line of text.split("\n")) if (line.trim()) options.onLine(line);
    };
    child.stdout.on("data", (chunk: Buffer) => forward(chunk, "out"));
    child.stderr.on("data", (chunk: Buffer) => forward(chunk, "err"));
    child.on("error", (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    // A tool that exits before reading its input closes the pipe: EPIPE is its exit status's story, not a crash.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });

/** Runs and throws with the command's stderr when it exits non-zero. */
export async function runChecked(
  runner: CommandRunner,
  command: string,
  args: readonly string[],
  options?: CommandOptions,
): Promise<CommandResult> {
  const result = await runner(command, args, options);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim().split("\n").slice(-5).join("\n");
    throw new Error(`${command} ${args[0] ?? ""} failed (exit ${result.code}): ${detail}`);
  }
  return result;
}
