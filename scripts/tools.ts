// Locates the command-line tools that scripts/setup-tools.sh installs, so a test that needs one
// fails loudly with the fix instead of being skipped.
import { accessSync, constants } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file lives in `scripts/`). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Where setup-tools.sh puts binaries; searched before PATH. */
export const toolsBin: string = join(repoRoot, ".tools", "bin");

/** Where tflint looks for plugins (set as TFLINT_PLUGIN_DIR when running it). */
export const tflintPluginDir: string = join(repoRoot, ".tools", "tflint-plugins");

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of tool `name`: `.tools/bin/<name>` first, then each PATH entry.
 * Throws `<name> is not installed: run npm run setup:tools` when neither has it.
 */
export function toolPath(name: string): string {
  const dirs = [toolsBin, ...(process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "")];
  for (const dir of dirs) {
    const candidate = resolve(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(`${name} is not installed: run npm run setup:tools`);
}
