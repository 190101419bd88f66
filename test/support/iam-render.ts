// The IAM JSON a module's `data "aws_iam_policy_document"` blocks render to, for given inputs, with
// Terraform itself doing the arithmetic: the documents' statements (static and `dynamic`), the
// module's variables.tf (so its validations run on the inputs) and the locals they use are written
// into a scratch folder, and `terraform console` evaluates them. No provider is needed: the data
// sources and resources the expressions name (the caller's account, the OIDC provider's ARN…) are
// replaced by the values the caller gives in `references`, and a reference left without a value is
// Terraform's own "undeclared" error. What the provider adds on top (JSON layout, merging
// `source_policy_documents` by Sid) is done here, as the provider documents it.
// Not rendered: `override_policy_documents`, `policy_id`, and dynamic blocks nested in a statement.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { toolPath } from "../../scripts/tools.ts";
import { bodies, type HclBody } from "./hcl.ts";
import type { PolicyDocument, PolicyStatement, Values } from "./iam-policy.ts";

export interface RenderInputs {
  /** The module's input variables, as Terraform values. */
  variables: Record<string, unknown>;
  /**
   * Values of the resources and data sources the documents name, by address without attribute:
   * `data.aws_caller_identity.current` → `{ account_id }`, `aws_iam_openid_connect_provider.github` →
   * `[{ arn }]` (a resource with count is a list).
   */
  references: Record<string, unknown>;
}

/** A document of the module, rendered: its statements, in IAM's JSON. */
export type RenderedDocuments = Record<string, PolicyDocument>;

interface Segment {
  expression: boolean;
  text: string;
}

/** Splits an hcl2json template string into literal text and `${…}` expressions (braces balanced). */
function templateSegments(template: string): Segment[] {
  const segments: Segment[] = [];
  let literal = "";
  let i = 0;
  while (i < template.length) {
    if (template.startsWith("${", i)) {
      let depth = 1;
      let j = i + 2;
      while (j < template.length && depth > 0) {
        if (template[j] === "{") depth++;
        else if (template[j] === "}") depth--;
        j++;
      }
      if (depth > 0) throw new Error(`iam-render: unbalanced interpolation in ${JSON.stringify(template)}`);
      if (literal) segments.push({ expression: false, text: literal });
      literal = "";
      segments.push({ expression: true, text: template.slice(i + 2, j - 1) });
      i = j;
    } else {
      literal += template[i++];
    }
  }
  if (literal) segments.push({ expression: false, text: literal });
  return segments;
}

const DOCUMENT_JSON = /^data\.aws_iam_policy_document\.(\w+)\.json$/;

/** Rewrites an expression's references for the scratch folder (iterator, data sources, resources). */
function rewrite(expression: string, iterator?: string): string {
  let out = expression;
  if (iterator) {
    out = out
      .replace(new RegExp(`(?<![\\w.])${iterator}\\.value\\b`, "g"), "__value")
      .replace(new RegExp(`(?<![\\w.])${iterator}\\.key\\b`, "g"), "__key");
  }
  if (/(?<![\w.])data\.aws_iam_policy_document\./.test(out))
    throw new Error(`iam-render: a document used outside source_policy_documents: ${expression}`);
  return out
    .replace(/(?<![\w.])data\.(\w+)\.(\w+)/g, 'local.__ref["data.$1.$2"]')
    .replace(/(?<![\w."])((?:aws|github|terraform)_\w+)\.(\w+)/g, 'local.__ref["$1.$2"]');
}

/** An hcl2json value as HCL source: strings stay templates (a lone `${x}` keeps x's type). */
function hcl(value: unknown, iterator?: string): string {
  if (typeof value === "string") {
    return `"${templateSegments(value)
      .map((s) =>
        s.expression
          ? `\${${rewrite(s.text, iterator)}}`
          : s.text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n"),
      )
      .join("")}"`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => hcl(v, iterator)).join(", ")}]`;
  if (value === null) return "null";
  if (typeof value === "object") {
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)} = ${hcl(v, iterator)}`)
      .join(", ")} }`;
  }
  return JSON.stringify(value);
}

/** A value given by the caller, as HCL: JSON, with `${` and `%{` kept literal. */
const literal = (value: unknown) => JSON.stringify(value).replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");

const STATEMENT_KEYS = ["sid", "effect", "actions", "not_actions", "resources", "not_resources"] as const;

/** One statement block as an HCL object expression with every field (null when absent). */
function statementObject(body: HclBody, iterator?: string): string {
  if ("dynamic" in body) throw new Error("iam-render: dynamic blocks inside a statement are not rendered");
  const field = (key: string) => (key in body ? hcl(body[key], iterator) : "null");
  const blocks = (key: string, attributes: string[]) =>
    `[${bodies(body[key])
      .map(
        (b) => `{ ${attributes.map((a) => `${a} = ${a in b ? hcl(b[a], iterator) : "null"}`).join(", ")} }`,
      )
      .join(", ")}]`;
  return `{ ${[
    ...STATEMENT_KEYS.map((k) => `${k} = ${field(k)}`),
    `principals = ${blocks("principals", ["type", "identifiers"])}`,
    `not_principals = ${blocks("not_principals", ["type", "identifiers"])}`,
    `conditions = ${blocks("condition", ["test", "variable", "values"])}`,
  ].join(", ")} }`;
}

/** Every statement of one document: the static blocks, then each dynamic block's expansion. */
function statementsExpression(body: HclBody): string {
  const parts = [
    `[${bodies(body.statement)
      .map((s) => statementObject(s))
      .join(", ")}]`,
  ];
  for (const dynamic of bodies(body.dynamic)) {
    for (const block of bodies(dynamic.statement)) {
      const iterator = typeof block.iterator === "string" ? block.iterator : "statement";
      const content = bodies(block.content)[0] ?? {};
      parts.push(`[for __key, __value in ${hcl(block.for_each)} : ${statementObject(content, iterator)}]`);
    }
  }
  return `concat(${parts.join(", ")})`;
}

interface RawStatement {
  sid: string | null;
  effect: string | null;
  actions: string[] | null;
  not_actions: string[] | null;
  resources: string[] | null;
  not_resources: string[] | null;
  principals: { type: string; identifiers: Values }[];
  not_principals: { type: string; identifiers: Values }[];
  conditions: { test: string; variable: string; values: Values }[];
}

const one = (values: string[]): Values => (values.length === 1 ? values[0]! : values);

/** The provider's JSON for one statement (singletons unwrapped, conditions grouped by test, then key). */
function toIam(raw: RawStatement): PolicyStatement {
  const statement: PolicyStatement = { Effect: raw.effect === "Deny" ? "Deny" : "Allow" };
  if (raw.sid) statement.Sid = raw.sid;
  if (raw.actions) statement.Action = one(raw.actions);
  if (raw.not_actions) statement.NotAction = one(raw.not_actions);
  if (raw.resources) statement.Resource = one(raw.resources);
  if (raw.not_resources) statement.NotResource = one(raw.not_resources);
  if (raw.principals.length > 0) {
    const principal: Record<string, string[]> = {};
    for (const p of raw.principals)
      principal[p.type] = [...(principal[p.type] ?? []), ...[p.identifiers].flat()];
    statement.Principal =
      Object.keys(principal).length === 1 && principal["*"]
        ? "*"
        : Object.fromEntries(Object.entries(principal).map(([k, v]) => [k, one(v)]));
  }
  if (raw.not_principals.length > 0) statement.NotPrincipal = raw.not_principals;
  if (raw.conditions.length > 0) {
    const condition: Record<string, Record<string, Values>> = {};
    for (const c of raw.conditions) {
      const byKey = condition[c.test] ?? {};
      byKey[c.variable] = one([...[byKey[c.variable] ?? []].flat(), ...[c.values].flat()]);
      condition[c.test] = byKey;
    }
    statement.Condition = condition;
  }
  return statement;
}

/** The module's `locals`, by name (as hcl2json gives them). */
async function moduleLocals(dir: string, files: string[]): Promise<Record<string, unknown>> {
  const locals: Record<string, unknown> = {};
  for (const file of files) {
    const json = (await parse(file, readFileSync(join(dir, file), "utf8"))) as HclBody;
    for (const block of bodies(json.locals)) Object.assign(locals, block);
  }
  return locals;
}

/** The locals an expression text names, and the ones those name, transitively. */
function neededLocals(text: string, locals: Record<string, unknown>): string[] {
  const needed = new Set<string>();
  const queue = [text];
  while (queue.length > 0) {
    for (const [, name] of queue.pop()!.matchAll(/(?<![\w.])local\.(\w+)/g)) {
      if (name!.startsWith("__") || needed.has(name!)) continue;
      if (!(name! in locals)) throw new Error(`iam-render: local.${name} is not declared in the module`);
      needed.add(name!);
      queue.push(JSON.stringify(locals[name!]));
    }
  }
  return [...needed];
}

/** Evaluates `expression` in `dir`; a string result, or an error with terraform's own diagnostics. */
function runConsole(dir: string, expression: string): string {
  const result = spawnSync(toolPath("terraform"), ["console", "-no-color", "-var-file=inputs.tfvars.json"], {
    cwd: dir,
    input: `${expression}\n`,
    encoding: "utf8",
    env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null", CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" },
  });
  const printed = result.stdout.trim();
  // The console answers errors on stderr (a validation, an undeclared reference), sometimes exiting 0.
  if (result.status !== 0 || !printed.startsWith('"'))
    throw new Error(`iam-render: terraform console failed in ${dir}:\n${result.stderr}${result.stdout}`);
  return printed;
}

/**
 * Renders every `aws_iam_policy_document` of the module in `moduleDir` for `inputs`, as AWS would
 * receive them (`documents.deploy` is `data.aws_iam_policy_document.deploy.json`).
 *
 * @example
 * const docs = await renderPolicyDocuments(join(modulesRoot, "workload-iam"), {
 *   variables: { bucket_arn: "arn:aws:s3:::b", queue_arn: "arn:aws:sqs:eu-west-1:111111111111:q" },
 *   references: {},
 * });
 * docs.api.Statement.map((s) => s.Sid); // ["WriteUploads", …]
 */
export async function renderPolicyDocuments(
  moduleDir: string,
  inputs: RenderInputs,
): Promise<RenderedDocuments> {
  const files = readdirSync(moduleDir).filter((f) => f.endsWith(".tf"));
  const documents: Record<string, HclBody> = {};
  for (const file of files) {
    const json = (await parse(file, readFileSync(join(moduleDir, file), "utf8"))) as HclBody;
    const byName = bodies(json.data)[0]?.aws_iam_policy_document;
    for (const [name, body] of Object.entries((byName ?? {}) as Record<string, unknown>))
      documents[name] = bodies(body)[0]!;
  }
  const locals = await moduleLocals(moduleDir, files);
  const rendered = Object.entries(documents)
    .map(([name, body]) => `${JSON.stringify(name)} = ${statementsExpression(body)}`)
    .join("\n    ");
  const needed = neededLocals(rendered, locals);
  const dir = mkdtempSync(join(tmpdir(), "iam-render-"));
  try {
    copyFileSync(join(moduleDir, "variables.tf"), join(dir, "variables.tf"));
    writeFileSync(join(dir, "inputs.tfvars.json"), JSON.stringify(inputs.variables));
    writeFileSync(
      join(dir, "render.tf"),
      [
        "locals {",
        `  __ref = ${literal(inputs.references)}`,
        ...needed.map((name) => `  ${name} = ${hcl(locals[name])}`),
        "  __documents = {",
        `    ${rendered}`,
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    const printed = runConsole(dir, "jsonencode(local.__documents)");
    // The console prints an HCL string literal: JSON escapes, with `${` and `%{` doubled.
    const json = (JSON.parse(printed) as string).replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
    const raw = JSON.parse(json) as Record<string, RawStatement[]>;
    const out: RenderedDocuments = {};
    const render = (name: string, trail: string[] = []): PolicyDocument => {
      if (out[name]) return out[name];
      if (trail.includes(name))
        throw new Error(`iam-render: source_policy_documents cycle ${trail.join(" → ")}`);
      const body = documents[name]!;
      // source_policy_documents first; a statement of this document replaces a source's of the same Sid.
      const sources = [body.source_policy_documents ?? []].flat().map((ref) => {
        const source = String(ref)
          .match(/^\$\{(.*)\}$/)?.[1]
          ?.match(DOCUMENT_JSON)?.[1];
        if (!source || !documents[source])
          throw new Error(
            `iam-render: ${name}: source_policy_documents entry ${String(ref)} is not a document here`,
          );
        return render(source, [...trail, name]).Statement;
      });
      if (body.override_policy_documents) throw new Error(`iam-render: ${name}: override_policy_documents`);
      const own = raw[name]!.map(toIam);
      const ownSids = new Set(own.map((s) => s.Sid).filter(Boolean));
      const statements = [...sources.flat().filter((s) => !s.Sid || !ownSids.has(s.Sid)), ...own];
      out[name] = { Version: "2012-10-17", Statement: statements };
      return out[name];
    };
    for (const name of Object.keys(documents)) render(name);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
