// Runs a bundled action exactly as a GitHub runner does: `node dist/index.js` with INPUT_* variables,
// GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files and a workspace, and reads back what it wrote.
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { MOTO_CREDENTIALS, MOTO_REGION } from "../../../../test/support/moto.ts";

export const repositoryRoot = new URL("../../../../", import.meta.url).pathname;

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** Milliseconds from spawn to exit. */
  durationMs: number;
}

/** The runner's name for an input's variable: INPUT_ + upper-cased name, spaces as underscores, hyphens kept. */
export const inputVariable = (name: string) => `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;

/**
 * A scratch GITHUB_WORKSPACE holding a copy of environments/, without `signing`: these runs deploy
 * against moto with no registry to hold signatures. The refusal of an unsigned digest is tested in
 * actions/delivery/test/signing.test.ts and in the rehearsal's "unsigned digest refused" chain.
 */
export function scratchWorkspace(): string {
  const workspace = mkdtempSync(join(tmpdir(), "workspace-"));
  const dir = join(workspace, "environments");
  cpSync(join(repositoryRoot, "environments"), dir, { recursive: true });
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".yaml"))) {
    const doc = parseDocument(readFileSync(join(dir, file), "utf8"));
    doc.deleteIn(["signing"]);
    writeFileSync(join(dir, file), doc.toString({ flowCollectionPadding: false }));
  }
  return workspace;
}

/** Parses the `name<<delimiter … delimiter` records @actions/core writes to GITHUB_OUTPUT. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = lines[i]!.match(/^([^<]+)<<(.+)$/);
    if (!match) continue;
    const [, name, delimiter] = match;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
    outputs[name!] = value.join("\n");
  }
  return outputs;
}

export function runBundledAction(
  action: string,
  inputs: Record<string, string>,
  options: {
    workspace: string;
    env?: Record<string, string>;
    nodeArgs?: string[];
    onSpawn?: (child: ChildProcess) => void;
  },
): Promise<ActionRun> {
  const files = mkdtempSync(join(tmpdir(), "runner-"));
  const outputFile = join(files, "output");
  const summaryFile = join(files, "summary");
  writeFileSync(outputFile, "");
  writeFileSync(summaryFile, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? files,
    GITHUB_ACTIONS: "true",
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: "acme/content-engine",
    GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
    GITHUB_REF_NAME: "main",
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_REGION: MOTO_REGION,
    ...options.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const entry = join(repositoryRoot, "actions", action, "dist", "index.js");
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), entry], {
      cwd: options.workspace,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    options.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        code: code ?? 1,
        stdout,
        stderr,
        outputs: parseOutputFile(readFileSync(outputFile, "utf8")),
        summary: readFileSync(summaryFile, "utf8"),
        durationMs: performance.now() - started,
      }),
    );
  });
}

/** The `::error::` lines a run printed (what the runner shows as annotations). */
export function errorLines(run: ActionRun): string[] {
  return run.stdout.split("\n").filter((line) => line.startsWith("::error::"));
}
