// One home per name: what environments/src (names.ts, load.ts) produces from an environment — its
// alarm and dashboard names, its queue names, the path of its file — is computed nowhere else. The
// tests' own expectations (*.test.ts) may restate a name: that is how they catch names.ts changing.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/tools.ts";
import { run } from "../support/run.ts";

/** What each pattern rebuilds, and the helper that produces it. */
const REBUILT: Array<{ pattern: RegExp; instead: string }> = [
  {
    pattern: /content-engine-\$\{[^}]*\b(env|name|environment)\b/,
    instead: "alarmNamePrefix / alarmName / ruleGroupName (names.ts)",
  },
  {
    pattern: /\$\{alarmNamePrefix\([^)]*\)\}[A-Za-z0-9-]/,
    instead: "alarmName / cloudWatchDashboardName (names.ts)",
  },
  { pattern: /\.(url|dlqUrl)\.(split|slice)\(/, instead: "queueNames(env) (names.ts)" },
  { pattern: /lastIndexOf\("\/"\) \+ 1/, instead: "queueNames(env) (names.ts)" },
  { pattern: /api\.cluster\}-api`/, instead: "apiTaskFamily(env) (names.ts)" },
  {
    pattern: /environments\/\$\{/,
    instead: "environmentFile / environmentSource / repositoryPath (load.ts)",
  },
];

/** The lines of `text` that rebuild a name, as `file:line: text (use …)`. */
function rebuiltNames(file: string, text: string): string[] {
  return text
    .split("\n")
    .flatMap((line, index) =>
      REBUILT.filter(({ pattern }) => pattern.test(line)).map(
        ({ instead }) => `${file}:${index + 1}: ${line.trim()} (use ${instead})`,
      ),
    );
}

const sources = run("git", ["ls-files", "-co", "--exclude-standard", "*.ts"], { cwd: repoRoot })
  .stdout.split("\n")
  .filter(Boolean)
  .filter(
    (file) =>
      !file.endsWith(".test.ts") &&
      !file.startsWith("environments/src/") &&
      !file.includes("/dist/") &&
      !file.includes("/generated/"),
  );

describe("names derived from an environment have one home", () => {
  it("no source file outside environments/src rebuilds one", () => {
    expect(sources.length).toBeGreaterThan(100);
    const found = sources.flatMap((file) => {
      try {
        return rebuiltNames(file, readFileSync(join(repoRoot, file), "utf8"));
      } catch {
        return []; // listed by git, deleted in the working tree
      }
    });
    expect(found).toEqual([]);
  });

  it("names the file, the line and the helper to use (the check is live)", () => {
    const sample = [
      "const ok = alarmName(env, id);",
      'const queue = env.queue.url.split("/").pop();',
      `const file = \`environments/$\{env.name}.yaml\`;`,
    ].join("\n");
    expect(rebuiltNames("x.ts", sample)).toEqual([
      'x.ts:2: const queue = env.queue.url.split("/").pop(); (use queueNames(env) (names.ts))',
      `x.ts:3: const file = \`environments/$\{env.name}.yaml\`; (use environmentFile / environmentSource / repositoryPath (load.ts))`,
    ]);
  });
});
