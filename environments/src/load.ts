// Reading environment files: resolve the name, parse YAML, validate against the schema.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { parseDocument } from "yaml";
import { EnvironmentError, formatIssues } from "./errors.ts";
import {
  type Environment,
  type EnvironmentName,
  environmentNameProblem,
  environmentSchema,
} from "./schema.ts";

/** Where environment files live: `$CONTENT_ENGINE_ENVIRONMENTS_DIR`, else `./environments`. */
export function defaultEnvironmentsDir(): string {
  return resolve(process.env.CONTENT_ENGINE_ENVIRONMENTS_DIR ?? "environments");
}

/** Whether `name` may name an environment file (the pattern; not whether the file exists). */
export function isEnvironmentName(name: string): name is EnvironmentName {
  return environmentNameProblem(name) === undefined;
}

/**
 * The names of the environment files in `dir` (`<name>.yaml`), sorted. The files are the list: adding
 * `environments/qa.yaml` is all it takes for every consumer to know `qa`. A YAML file whose name is not
 * an environment name is refused rather than skipped, so a typo never hides an environment.
 */
export function listEnvironmentNames(dir = defaultEnvironmentsDir()): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    throw new EnvironmentError(
      `${displayPath(dir)}: cannot list environment files (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  const names: string[] = [];
  for (const entry of entries.sort()) {
    const match = entry.match(/^(.*)\.ya?ml$/);
    if (!match) continue;
    if (entry.endsWith(".yml"))
      throw new EnvironmentError(`${displayPath(join(dir, entry))}: environment files end in .yaml`);
    const problem = environmentNameProblem(match[1]!);
    if (problem)
      throw new EnvironmentError(`${displayPath(join(dir, entry))}: file name: expected ${problem}`);
    names.push(match[1]!);
  }
  return names.sort();
}

/** `name` when it names an environment file in `dir`; else an error listing the environments there. */
export function assertEnvironmentName(name: string, dir = defaultEnvironmentsDir()): EnvironmentName {
  const problem = environmentNameProblem(name);
  if (problem) {
    const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 37)}...` : name);
    throw new EnvironmentError(`environment ${shown}: expected ${problem}`);
  }
  if (!existsSync(join(dir, `${name}.yaml`))) {
    let known = "";
    try {
      known = listEnvironmentNames(dir).join(", ");
    } catch {}
    throw new EnvironmentError(
      `unknown environment "${name}": no ${displayPath(join(dir, `${name}.yaml`))}${known ? ` (the environments are ${known})` : ""}`,
    );
  }
  return name;
}

/** The path of environment `name`'s file in `dir` (the name checked against the pattern; the file may not exist yet). */
export function environmentFile(name: string, dir = defaultEnvironmentsDir()): string {
  const problem = environmentNameProblem(name);
  if (problem) {
    const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 37)}...` : name);
    throw new EnvironmentError(`environment ${shown}: expected ${problem}`);
  }
  return join(dir, `${name}.yaml`);
}

/**
 * An environment file's path inside the repository (posix, as git and GitHub's contents API name it),
 * whether its folder was given relative or absolute (`${{ github.workspace }}/environments`): relative
 * to `root`, else to GITHUB_WORKSPACE or the working directory, whichever holds it. A folder outside
 * both (a copy elsewhere) stands for the repository's own `environments/`.
 */
export function repositoryPath(file: string, root?: string): string {
  const roots = root ? [root] : [process.env.GITHUB_WORKSPACE, process.cwd()];
  for (const candidate of roots.filter((r): r is string => Boolean(r))) {
    const inside = relative(resolve(candidate), resolve(file));
    if (inside !== "" && !inside.startsWith("..") && !isAbsolute(inside)) return inside.split(sep).join("/");
  }
  if (root) throw new EnvironmentError(`${file} is not inside the repository checkout ${resolve(root)}`);
  return `environments/${basename(file)}`;
}

/** A file path as a person would type it: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}

const sources = new WeakMap<Environment, string>();

/** The file an environment was read from, as messages should name it (e.g. deploy/envs/dev.yaml). */
export function environmentSource(env: Environment): string {
  return sources.get(env) ?? `environments/${env.name}.yaml`;
}

/** Parses and validates one file's text; `file` is only used in messages. */
export function parseEnvironment(text: string, file: string): Environment {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0].line;
    throw new EnvironmentError(
      `${file}: ${line ? `line ${line}: ` : ""}${first.message.split(" at line")[0]}`,
    );
  }
  const data: unknown = doc.toJS();
  if (data && typeof data === "object" && "bucketPrefix" in data) {
    throw new EnvironmentError(
      `${file}: bucketPrefix: expected nothing: only preview environments have a key prefix (derived from the base file); an environment file's keys start at the bucket's root`,
    );
  }
  const result = environmentSchema.safeParse(data);
  if (!result.success) throw new EnvironmentError(formatIssues(file, data, result.error.issues));
  const expected = file.match(/([^/\\]+)\.ya?ml$/)?.[1];
  if (expected && isEnvironmentName(expected) && result.data.name !== expected) {
    throw new EnvironmentError(
      `${file}: name: expected "${expected}" (the file name), got "${result.data.name}"`,
    );
  }
  sources.set(result.data, file);
  return result.data;
}

/** A file's text and the environment it holds (for tools that edit the text and keep its comments). */
export function readEnvironmentFile(file: string): { text: string; env: Environment } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const name = basename(file).replace(/\.yaml$/, "");
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && isEnvironmentName(name)) {
      assertEnvironmentName(name, dirname(file)); // names the environments there
    }
    throw new EnvironmentError(
      `${displayPath(file)}: cannot read (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  return { text, env: parseEnvironment(text, displayPath(file)) };
}

export function loadEnvironmentFile(file: string): Environment {
  return readEnvironmentFile(file).env;
}

/** Loads environment `name` (its file `<dir>/<name>.yaml`); throws EnvironmentError with file, field and expectation. */
export function loadEnvironment(name: string, dir = defaultEnvironmentsDir()): Environment {
  return loadEnvironmentFile(environmentFile(name, dir));
}
