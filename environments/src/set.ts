// Every environment at once: the files in the folder, checked against each other. The set of
// environments and the promotion order are data (each file's `promotion.from`), never a list in code.
import { join } from "node:path";
import { EnvironmentError } from "./errors.ts";
import { defaultEnvironmentsDir, displayPath, listEnvironmentNames, loadEnvironmentFile } from "./load.ts";
import { type Environment, environmentNameProblem } from "./schema.ts";

export interface Promotion {
  from: string;
  to: string;
}

export interface EnvironmentSet {
  /** The folder the files were read from. */
  dir: string;
  /** Every environment, in promotion order: the build environment first, each after the one it promotes from. */
  environments: Environment[];
  /** Their names, in the same order. */
  names: string[];
  /** The one environment without `promotion.from`: deploy.yml builds the image and deploys it there. */
  build: Environment;
  /** Every promotion pull request promote.yml opens (`from` -> `to`), in promotion order. */
  promotions: Promotion[];
  /** The environment whose file has a `previews` block (pull-request previews derive from it), if any. */
  previewBase: Environment | undefined;
  get(name: string): Environment;
  /** The environments that promote from `name` (none for the last stage; several where the order forks). */
  next(name: string): Environment[];
}

/** What makes two environments deploy over each other: the same account and one of these. */
function claims(env: Environment): Array<{ field: string; value: string }> {
  const found = [{ field: "queue.url", value: env.queue.url }];
  if (env.platform === "ecs") {
    found.push({ field: "api.service", value: `ECS service ${env.api.cluster}/${env.api.service}` });
    found.push({ field: "worker.functionName", value: `Lambda function ${env.worker.functionName}` });
  } else if (env.eks) {
    found.push({
      field: "eks.release",
      value: `Helm release ${env.eks.namespace}/${env.eks.release} on ${env.eks.cluster}`,
    });
  }
  return found;
}

/**
 * Loads every `<dir>/<name>.yaml` and checks them together: each `promotion.from` names an environment,
 * the order has no cycle and exactly one start, no two files claim the same account and service, and at
 * most one file has a `previews` block. Errors name the file and the field.
 */
export function loadEnvironments(dir = defaultEnvironmentsDir()): EnvironmentSet {
  const names = listEnvironmentNames(dir);
  const file = (name: string) => displayPath(join(dir, `${name}.yaml`));
  if (names.length === 0)
    throw new EnvironmentError(`${displayPath(dir)}: no environment files (<name>.yaml)`);
  const byName = new Map(names.map((name) => [name, loadEnvironmentFile(join(dir, `${name}.yaml`))]));

  for (const [name, env] of byName) {
    const from = env.promotion.from;
    if (from === undefined) continue;
    if (from === name)
      throw new EnvironmentError(`${file(name)}: promotion.from: "${from}" is this environment itself`);
    if (!byName.has(from)) {
      throw new EnvironmentError(
        `${file(name)}: promotion.from: "${from}" is not an environment (no ${file(from)}; the environments are ${names.join(", ")})`,
      );
    }
  }
  for (const name of names) {
    const seen = [name];
    for (let at = byName.get(name)!.promotion.from; at !== undefined; at = byName.get(at)!.promotion.from) {
      if (seen.includes(at)) {
        const cycle = [...seen.slice(seen.indexOf(at)), at].reverse();
        throw new EnvironmentError(
          `${file(cycle[1]!)}: promotion.from: the promotion order has a cycle (${cycle.join(" -> ")})`,
        );
      }
      seen.push(at);
    }
  }
  const starts = names.filter((name) => byName.get(name)!.promotion.from === undefined);
  if (starts.length !== 1) {
    throw new EnvironmentError(
      `${starts.map(file).join(", ")}: promotion.from: exactly one environment (the one deploy.yml builds for) may have none; set it in the others`,
    );
  }

  const claimed = new Map<string, string>();
  for (const name of names) {
    const env = byName.get(name)!;
    for (const { field, value } of claims(env)) {
      const key = `${env.accountId} ${field} ${value}`;
      const other = claimed.get(key);
      if (other) {
        throw new EnvironmentError(
          `${file(name)}: ${field}: ${value} in account ${env.accountId} is ${file(other)}'s too (two environments would deploy over each other)`,
        );
      }
      claimed.set(key, name);
    }
  }
  const withPreviews = names.filter((name) => byName.get(name)!.previews);
  if (withPreviews.length > 1) {
    throw new EnvironmentError(
      `${withPreviews.map(file).join(", ")}: previews: at most one environment file has a previews block (previews derive from it)`,
    );
  }

  const children = (name: string) => names.filter((n) => byName.get(n)!.promotion.from === name);
  const ordered: string[] = [];
  const queue = [starts[0]!];
  while (queue.length > 0) {
    const name = queue.shift()!;
    ordered.push(name);
    queue.push(...children(name));
  }
  const get = (name: string) => {
    const problem = environmentNameProblem(name);
    if (problem)
      throw new EnvironmentError(`environment ${JSON.stringify(name.slice(0, 40))}: expected ${problem}`);
    const env = byName.get(name);
    if (!env) {
      throw new EnvironmentError(
        `unknown environment "${name}": no ${file(name)} (the environments are ${ordered.join(", ")})`,
      );
    }
    return env;
  };
  return {
    dir,
    environments: ordered.map(get),
    names: ordered,
    build: get(starts[0]!),
    promotions: ordered.flatMap((from) => children(from).map((to) => ({ from, to }))),
    previewBase: withPreviews[0] ? get(withPreviews[0]) : undefined,
    get,
    next: (name) => children(get(name).name).map(get),
  };
}

/** The environment names in promotion order (the build environment first). */
export function environmentNames(dir = defaultEnvironmentsDir()): string[] {
  return loadEnvironments(dir).names;
}
