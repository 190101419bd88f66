// Builds the console into services/web/dist when it is missing or older than its sources.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const WEB_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = join(WEB_ROOT, "dist");

function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** True when dist/index.html is missing or any source of the console changed after it. */
export function consoleIsStale(): boolean {
  const built = join(DIST, "index.html");
  if (!existsSync(built)) return true;
  const sources = ["src", "index.html", "vite.config.ts", "package.json"].map((p) => join(WEB_ROOT, p));
  return Math.max(...sources.map(newest)) > statSync(built).mtimeMs;
}

/** `vite build` in services/web (with this Node), unless dist is up to date. */
export function ensureConsoleBuilt(): void {
  if (!consoleIsStale()) return;
  const vite = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin", "vite.js");
  const out = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], {
    cwd: WEB_ROOT,
    // vitest sets NODE_ENV=test; inherited, it would make Vite bundle React's development build.
    env: { ...process.env, NODE_ENV: "production" },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (out.status !== 0) {
    throw new Error(
      `building the console failed (exit ${out.status ?? out.signal}):\n${out.stdout}\n${out.stderr}`,
    );
  }
}
