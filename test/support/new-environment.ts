// Adds an environment to a checkout the way a person would: one environment file and one terraform
// variables file, copied from the environment it will sit before, with its own name and account.
// Used by test/infra/fourth-environment.test.ts and the rehearsal's "fourth environment" chain.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadEnvironments, repositoryPath, setEnvironmentFields } from "@content-engine/environments";
import { renderAlarms } from "../../alarms/src/generate.ts";
import { renderDashboards } from "../../dashboards/src/generate.ts";

export interface NewEnvironment {
  /** The new environment's name. */
  name: string;
  /** The environment it promotes from; the one that promoted from it now promotes from the new one. */
  from: string;
  /** Its AWS account. */
  accountId: string;
}

/** The files written or edited, relative to the checkout (as `git add` takes them). */
export function addEnvironment(root: string, added: NewEnvironment): string[] {
  const dir = join(root, "environments");
  const set = loadEnvironments(dir);
  const template = set.next(added.from)[0];
  if (!template)
    throw new Error(`nothing promotes from ${added.from}: no file to copy the new environment from`);
  const swap = (text: string) =>
    text.replaceAll(template.name, added.name).replaceAll(template.accountId, added.accountId);
  const file = (name: string) => join(dir, `${name}.yaml`);
  writeFileSync(
    file(added.name),
    setEnvironmentFields(swap(readFileSync(file(template.name), "utf8")), [
      { path: ["promotion", "from"], value: added.from },
    ]),
  );
  writeFileSync(
    file(template.name),
    setEnvironmentFields(readFileSync(file(template.name), "utf8"), [
      { path: ["promotion", "from"], value: added.name },
    ]),
  );
  const tfvars = (name: string) => join(root, "terraform", "envs", `${name}.tfvars`);
  // Its own network range: the template's second octet moved on by 10 (10.30.0.0/16 -> 10.40.0.0/16).
  writeFileSync(
    tfvars(added.name),
    swap(readFileSync(tfvars(template.name), "utf8")).replace(
      /vpc_cidr(\s*)= "10\.(\d+)\./,
      (_, space: string, octet: string) => `vpc_cidr${space}= "10.${Number(octet) + 10}.`,
    ),
  );
  return [
    repositoryPath(file(added.name), root),
    repositoryPath(file(template.name), root),
    `terraform/envs/${added.name}.tfvars`,
  ];
}

/**
 * `npm run generate`'s alarms and dashboards for the checkout at `root`, written where the generators
 * write them (alarms/generated, dashboards/generated): what a person commits with a new environment.
 * Returns the files written or changed, relative to the checkout.
 */
export function writeGenerated(root: string): string[] {
  const environments = join(root, "environments");
  const written: string[] = [];
  for (const [folder, files] of [
    ["alarms/generated", renderAlarms(environments)],
    ["dashboards/generated", renderDashboards(environments)],
  ] as const) {
    for (const [path, content] of files) {
      const file = join(root, folder, path);
      if (existsSync(file) && readFileSync(file, "utf8") === content) continue;
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      written.push(`${folder}/${path}`);
    }
  }
  return written.sort();
}
