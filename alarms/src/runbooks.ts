// Where an alarm's runbook opens from a page or a ticket: an absolute URL into the repository, built
// from one setting, the root package.json's `repository.url` (its default branch is `main`).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const runbooksDir: string = resolve(here, "../runbooks");
const rootPackageJson = resolve(here, "../../package.json");

/** `https://github.com/<org>/<repo>/blob/main/alarms/runbooks/`, from `repository.url` of package.json. */
export function runbookBaseUrl(packageJson: string = rootPackageJson): string {
  const pkg = JSON.parse(readFileSync(packageJson, "utf8")) as { repository?: string | { url?: string } };
  const raw = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url;
  const match = /^(?:git\+)?(https:\/\/[^/\s]+\/[^/\s]+\/[^/\s]+?)(?:\.git)?\/?$/.exec(raw ?? "");
  if (!match) {
    throw new Error(
      `${packageJson}: repository.url ${JSON.stringify(raw ?? null)} is not an https URL of a repository (https://github.com/<org>/<repo>); runbook links are built from it`,
    );
  }
  return `${match[1]}/blob/main/alarms/runbooks/`;
}

export function runbookUrl(runbook: string, base: string = runbookBaseUrl()): string {
  return `${base}${runbook}.md`;
}
