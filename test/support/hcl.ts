// Parsed Terraform: every .tf file of a folder turned into JSON by HashiCorp's own HCL parser
// (@cdktf/hcl2json runs hcl2json compiled to WebAssembly), so tests read what Terraform reads.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { repoRoot } from "../../scripts/tools.ts";

export const terraformRoot: string = join(repoRoot, "terraform");
export const modulesRoot: string = join(terraformRoot, "modules");
/** The one environment root (terraform/README.md "Using the root"). */
export const environmentRoot: string = join(terraformRoot, "environment");
/** Each environment's variables file, terraform/envs/<name>.tfvars. */
export const envsRoot: string = join(terraformRoot, "envs");

export type HclValue = unknown;
export type HclBody = Record<string, HclValue>;

/** A labelled block such as `resource "aws_sqs_queue" "jobs"` or `variable "name"`. */
export interface Block {
  file: string;
  kind: "resource" | "data" | "variable" | "output" | "module";
  /** Resource/data type (aws_sqs_queue); empty for variable/output/module. */
  type: string;
  name: string;
  body: HclBody;
}

export interface TerraformDir {
  dir: string;
  files: string[];
  blocks: Block[];
  /** The parsed `terraform {}` blocks. */
  terraform: HclBody[];
}

function isRecord(value: unknown): value is HclBody {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** hcl2json wraps every block body in an array (blocks may repeat); return the bodies. */
export function bodies(value: unknown): HclBody[] {
  if (Array.isArray(value)) return value.filter(isRecord);
  return isRecord(value) ? [value] : [];
}

export function subdirectories(dir: string): string[] {
  return readdirSync(dir)
    .filter((entry) => statSync(join(dir, entry)).isDirectory())
    .sort();
}

/** The environments that have a variables file: the names of terraform/envs/*.tfvars, sorted. */
export function tfvarsEnvironments(dir: string = envsRoot): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith(".tfvars"))
    .map((file) => file.slice(0, -".tfvars".length))
    .sort();
}

/** The path of an environment's variables file. */
export function tfvarsFile(name: string, dir: string = envsRoot): string {
  return join(dir, `${name}.tfvars`);
}

/** An environment's variables file, parsed by HCL (literal values as JSON). */
export async function loadTfvars(name: string, dir: string = envsRoot): Promise<HclBody> {
  const file = tfvarsFile(name, dir);
  const json = await parse(file, readFileSync(file, "utf8"));
  if (!isRecord(json)) throw new Error(`${file}: not a variables file`);
  return json;
}

export async function loadTerraformDir(dir: string): Promise<TerraformDir> {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith(".tf"))
    .sort();
  const blocks: Block[] = [];
  const terraform: HclBody[] = [];
  for (const file of files) {
    const json = (await parse(file, readFileSync(join(dir, file), "utf8"))) as HclBody;
    for (const kind of ["resource", "data"] as const) {
      const byType = json[kind];
      if (!isRecord(byType)) continue;
      for (const [type, byName] of Object.entries(byType)) {
        if (!isRecord(byName)) continue;
        for (const [name, body] of Object.entries(byName)) {
          for (const b of bodies(body)) blocks.push({ file, kind, type, name, body: b });
        }
      }
    }
    for (const kind of ["variable", "output", "module"] as const) {
      const byName = json[kind];
      if (!isRecord(byName)) continue;
      for (const [name, body] of Object.entries(byName)) {
        for (const b of bodies(body)) blocks.push({ file, kind, type: "", name, body: b });
      }
    }
    terraform.push(...bodies(json.terraform));
  }
  return { dir, files, blocks, terraform };
}

export function find(dir: TerraformDir, kind: Block["kind"], type = ""): Block[] {
  return dir.blocks.filter((b) => b.kind === kind && b.type === type);
}

export function findOne(dir: TerraformDir, kind: Block["kind"], type: string, name: string): Block {
  const block = dir.blocks.find((b) => b.kind === kind && b.type === type && b.name === name);
  if (!block) throw new Error(`${dir.dir}: no ${kind} ${type} "${name}"`);
  return block;
}

/** One statement of an aws_iam_policy_document, static or produced by a dynamic block. */
export interface PolicyStatement {
  sid: string;
  effect: "Allow" | "Deny";
  actions: string[];
  resources: string[];
  body: HclBody;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

export function policyStatements(document: Block): PolicyStatement[] {
  const raw: HclBody[] = [...bodies(document.body.statement)];
  for (const dynamic of bodies(document.body.dynamic)) {
    for (const statement of bodies(dynamic.statement)) raw.push(...bodies(statement.content));
  }
  return raw.map((body) => ({
    sid: typeof body.sid === "string" ? body.sid : "",
    effect: body.effect === "Deny" ? "Deny" : "Allow",
    actions: strings(body.actions),
    resources: strings(body.resources),
    body,
  }));
}
