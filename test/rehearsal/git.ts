// Real git on the rehearsal's local bare remote: every push, merge and race is a git operation.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";

export const BOT = {
  GIT_AUTHOR_NAME: "rehearsal",
  GIT_AUTHOR_EMAIL: "rehearsal@example.invalid",
  GIT_COMMITTER_NAME: "rehearsal",
  GIT_COMMITTER_EMAIL: "rehearsal@example.invalid",
};

export function git(cwd: string, args: readonly string[], env: Record<string, string> = {}): string {
  const result = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, ...BOT, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`git ${args.join(" ")} (in ${cwd}) failed: ${(result.stderr || result.stdout).trim()}`);
  }
  return result.stdout.trim();
}

/** A file at a commit of the bare repository, or undefined when it has none. */
export function show(bare: string, ref: string, path: string): string | undefined {
  const result = spawnSync("git", ["show", `${ref}:${path}`], { cwd: bare, encoding: "utf8" });
  return result.status === 0 ? result.stdout : undefined;
}

/** A fresh clone of the bare remote in a scratch folder, on `ref` (default main). */
export function cloneAt(bare: string, scratch: string, ref = "main"): string {
  const dir = mkdtempSync(join(scratch, "clone-"));
  git(scratch, ["clone", "-q", `file://${bare}`, dir]);
  git(dir, ["checkout", "-q", "--detach", ref]);
  return dir;
}

/** Files that differ between two commits of the bare repository. */
export function changedFiles(bare: string, before: string, after: string): string[] {
  return git(bare, ["diff", "--name-only", before, after]).split("\n").filter(Boolean);
}
