// The environment files are the only list of environments. Anything else that enumerates them (a
// workflow's choice options, a matrix, a Terraform validation, a test's fixture, a help text) goes
// stale the day someone adds environments/qa.yaml. This scans every tracked file for two or more
// environment names written as a list, and fails naming the file and line.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { environmentNames } from "@content-engine/environments";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/tools.ts";

const NAMES = environmentNames(join(repoRoot, "environments"));

/**
 * Files that may name several environments:
 * - the environment files themselves, and the loader's own tests, whose fixtures are those files;
 * - what is generated from the files (alarms, dashboards, bundles, the schema), checked fresh elsewhere;
 * - prose (Markdown), which describes the committed example set rather than driving anything.
 */
const EXEMPT = [
  /^environments\/[^/]+\.yaml$/,
  /^environments\/test\//,
  /^(alarms|dashboards)\/generated\//,
  /\/dist\//,
  /^environments\/schema\.json$/,
  /\.md$/,
  /(^|\/)package-lock\.json$/,
  /^test\/infra\/environment-lists\.test\.ts$/, // this file's own examples
  /\.(png|svg|ico|woff2?|zip|tgz|gz)$/,
];

/**
 * Two different environment names next to each other as list items. In code and configuration: any
 * spelling (`dev, staging`, `"dev","prod"`, `dev|prod`, `{dev,prod}`, `staging and prod`, `- dev\n- staging`,
 * `dev -> staging -> prod`). In tests, whose titles and messages may name the environments a scenario
 * uses: quoted names only (`["dev", "prod"]`, `"dev" | "prod"`), the lists a new environment would have
 * to be added to.
 */
function listsOfNames(
  text: string,
  names: readonly string[],
  scope: "code" | "test" = "code",
): Array<{ line: number; text: string }> {
  const name = `(?:${names.map((n) => n.replace(/[-]/g, "\\-")).join("|")})`;
  const patterns =
    scope === "test"
      ? [new RegExp(`(["'\`])(${name})\\1\\s*[,|]\\s*(["'\`])(${name})\\3`, "g")]
      : [
          new RegExp(
            `["'\`]?\\b(${name})\\b["'\`]?\\s*(?:,|\\||/|\\bor\\b|\\band\\b)\\s*\\[?["'\`]?\\b(${name})\\b`,
            "g",
          ),
          new RegExp(`\\b(${name})\\s*(?:->|→)\\s*(${name})\\s*(?:->|→)\\s*${name}\\b`, "g"),
          new RegExp(`^\\s*-\\s*["']?(${name})["']?\\s*$\\n^\\s*-\\s*["']?(${name})["']?\\s*$`, "gm"),
        ];
  const found: Array<{ line: number; text: string }> = [];
  const lines = text.split("\n");
  const lineOf = (index: number) => text.slice(0, index).split("\n").length;
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const [first, second] = scope === "test" ? [match[2], match[4]] : [match[1], match[2]];
      if (first === second) continue;
      const line = lineOf(match.index);
      found.push({ line, text: lines[line - 1]!.trim().slice(0, 160) });
    }
  }
  return found;
}

describe("lists of environment names", () => {
  it("the scan finds the lists it is meant to find, and not single names", () => {
    const names = ["dev", "staging", "prod"];
    for (const list of [
      'const NAMES = ["dev", "staging", "prod"] as const;',
      "options: [dev, staging]",
      "dev|staging|prod",
      "ci/{dev,staging,prod}-values.yaml",
      "description: Environment to deploy (dev, staging or prod).",
      'contains(["dev", "staging", "prod"], var.environment)',
      "environments:\n  - staging\n  - prod\n",
      "# dev -> staging -> prod",
    ])
      expect(listsOfNames(list, names), list).not.toEqual([]);
    expect(listsOfNames('for (const name of ["staging", "prod"])', names, "test")).not.toEqual([]);
    expect(listsOfNames('type Name = "dev" | "prod";', names, "test")).not.toEqual([]);
    expect(listsOfNames('it("staging and prod run the same queries")', names, "test")).toEqual([]);
    for (const single of [
      "environment: dev",
      "promotion:\n  from: staging # staging's digest",
      "content-engine-dev-api",
      "a development environment, a staging area",
      "prod.tfvars",
      "title: Promote dev → staging",
    ])
      expect(listsOfNames(single, names), single).toEqual([]);
  });

  it("are written nowhere but in the environment files", () => {
    const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
      cwd: repoRoot,
      encoding: "utf8",
    })
      .stdout.split("\0")
      .filter((file) => file && !EXEMPT.some((pattern) => pattern.test(file)));
    expect(files.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(join(repoRoot, file), "utf8");
      } catch {
        continue; // deleted in the working tree, not yet committed
      }
      const scope = /(^|\/)test\/|\.test\.ts$/.test(file) ? "test" : "code";
      for (const { line, text: where } of listsOfNames(text, NAMES, scope))
        found.push(`${file}:${line}: ${where}`);
    }
    expect(
      found,
      "derive these from the files (environmentNames, loadEnvironments, actions/environments)",
    ).toEqual([]);
  });
});
