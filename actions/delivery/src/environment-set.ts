// What workflows need to know about the set of environments, read from the files: their names in
// promotion order, the build environment, the promotion pull requests to open, the preview base, and
// which files a push changed. Workflows take their matrices from here, never from a written list.
import { execFileSync } from "node:child_process";
import { EnvironmentError, loadEnvironments } from "@content-engine/environments";

export interface EnvironmentSetSummary {
  /** Every environment, in promotion order. */
  names: string[];
  /** The environment deploy.yml builds for (the one without promotion.from). */
  build: string;
  /** The promotion pull requests promote.yml opens, in promotion order. */
  promotions: Array<{ from: string; to: string }>;
  /** The environment pull-request previews derive from, or "" when no file has a previews block. */
  previewBase: string;
  /** The role preview.yml assumes (previews.roleArn of the base), its region; "" without previews. */
  previewRole: string;
  previewRegion: string;
  /** The environment named by `environment`, checked to exist ("" when none was asked). */
  environment: string;
  /** With `changedSince`: the environments whose files differ between that commit and HEAD, in promotion order. */
  changed: string[];
}

export interface EnvironmentSetOptions {
  /** Folder of the environment files. */
  dir: string;
  /** An environment name to check (it must have a file). */
  environment?: string;
  /** A commit: report the environments whose files changed from it to HEAD (a deleted file deploys nothing). */
  changedSince?: string;
  /** The git checkout (default: the working directory). */
  cwd?: string;
}

function changedFiles(dir: string, since: string, cwd: string | undefined): string[] {
  if (!/^[0-9a-f]{7,64}$|^HEAD(\^|~\d+)?$/.test(since)) {
    throw new EnvironmentError(
      `changed-since: expected a commit sha or HEAD^, got ${JSON.stringify(since.slice(0, 80))}`,
    );
  }
  const git = (...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" });
  let base = since;
  try {
    git("cat-file", "-e", `${since}^{commit}`);
  } catch {
    // A first push, or a base the shallow checkout lacks: compare with the previous commit.
    base = "HEAD^";
  }
  return git("diff", "--name-only", "--diff-filter=d", base, "HEAD", "--", dir)
    .split("\n")
    .filter(Boolean)
    .map((file) =>
      file
        .split("/")
        .pop()!
        .replace(/\.yaml$/, ""),
    );
}

/** Loads and checks every environment file (any error names the file and field) and summarises the set. */
export function describeEnvironmentSet(options: EnvironmentSetOptions): EnvironmentSetSummary {
  const set = loadEnvironments(options.dir);
  const environment = options.environment ? set.get(options.environment).name : "";
  const changed = options.changedSince
    ? new Set(changedFiles(options.dir, options.changedSince, options.cwd))
    : new Set<string>();
  return {
    names: set.names,
    build: set.build.name,
    promotions: set.promotions,
    previewBase: set.previewBase?.name ?? "",
    previewRole: set.previewBase?.previews?.roleArn ?? "",
    previewRegion: set.previewBase?.region ?? "",
    environment,
    changed: set.names.filter((name) => changed.has(name)),
  };
}
