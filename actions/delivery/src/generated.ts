// Where the repository's generated files are, found from this package's own location (source or
// bundled dist/), never from the directory a command happens to run in; and how to read one.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DeliveryError } from "./errors.ts";

const ROOT_PACKAGE = "content-engine";

/** The checkout this module lives in: the nearest folder up whose package.json is the root workspace. */
export function repositoryRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name;
      if (name === ROOT_PACKAGE) return dir;
    }
    if (dirname(dir) === dir) {
      throw new Error(
        `no ${ROOT_PACKAGE} checkout above ${from}: pass the generated folders explicitly (alarms-dir, dashboards-dir)`,
      );
    }
  }
}

/** `alarms/generated` of the checkout (`<env>/cloudwatch-alarms.json`, `<env>/prometheus-rules.yaml`). */
export const generatedAlarmsDir = (root: string = repositoryRoot()): string =>
  join(root, "alarms", "generated");

/** `dashboards/generated` of the checkout (`manifest/<env>.json` and the Grafana JSON it lists, `cloudwatch/<env>.json`). */
export const generatedDashboardsDir = (root: string = repositoryRoot()): string =>
  join(root, "dashboards", "generated");

/** A committed generated JSON file; a missing one says how to make it. */
export function readGeneratedJson<T>(file: string, what: string): T {
  if (!existsSync(file))
    throw new DeliveryError(`${what} ${file} does not exist: run npm run generate and commit`);
  return JSON.parse(readFileSync(file, "utf8")) as T;
}
