// checkov (run with --skip-download: offline, bundled policies only) over everything we ship:
// Terraform, the rendered chart, the Dockerfiles and the workflows. Zero failed checks; every
// skip is inline, next to the resource, with a written reason.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import {
  ciValues,
  environments,
  environmentValues,
  helmTemplate,
  monitoringApis,
  profiles,
} from "../support/helm.ts";
import { run } from "../support/run.ts";

interface CheckovCheck {
  check_id: string;
  resource: string;
  file_path: string;
  check_result?: { suppress_comment?: string };
}

interface CheckovReport {
  check_type: string;
  results: {
    passed_checks?: CheckovCheck[];
    failed_checks?: CheckovCheck[];
    skipped_checks?: CheckovCheck[];
  };
  summary: { passed: number; failed: number; skipped: number };
}

const scanTimeout = 240_000;

function checkov(args: string[]): CheckovReport[] {
  const result = run(toolPath("checkov"), [
    "--skip-download",
    "--compact",
    "--output",
    "json",
    "--soft-fail",
    ...args,
  ]);
  if (result.code !== 0) throw new Error(`checkov did not run:\n${result.output}`);
  const parsed = JSON.parse(result.stdout) as CheckovReport | CheckovReport[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

function failures(reports: CheckovReport[]): string[] {
  return reports.flatMap((r) =>
    (r.results.failed_checks ?? []).map((c) => `${c.check_id} ${c.resource} (${c.file_path})`),
  );
}

function summary(reports: CheckovReport[]) {
  return reports.reduce(
    (total, r) => ({
      passed: total.passed + r.summary.passed,
      failed: total.failed + r.summary.failed,
      skipped: total.skipped + r.summary.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
}

function expectSkipsExplained(reports: CheckovReport[]) {
  const unexplained = reports.flatMap((r) =>
    (r.results.skipped_checks ?? [])
      .filter((c) => (c.check_result?.suppress_comment ?? "").trim().length < 20)
      .map((c) => `${c.check_id} ${c.resource}: "${c.check_result?.suppress_comment ?? ""}"`),
  );
  expect(unexplained, "skips without a written reason").toEqual([]);
}

describe("checkov", () => {
  it(
    "passes every Terraform check, with each skip explained inline",
    () => {
      const reports = checkov(["--framework", "terraform", "--directory", join(repoRoot, "terraform")]);
      expect(failures(reports)).toEqual([]);
      expect(summary(reports).passed).toBeGreaterThan(300);
      expectSkipsExplained(reports);
    },
    scanTimeout,
  );

  it(
    "passes every Kubernetes check on the chart rendered for every environment file and chart-testing profile",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "rendered-chart-"));
      const rendered = [
        ...environments.map((env) => ({ name: `environment-${env}`, values: environmentValues(env) })),
        ...profiles.map((profile) => ({ name: `profile-${profile}`, values: ciValues(profile) })),
      ];
      for (const { name, values } of rendered) {
        const result = helmTemplate({ valuesFiles: [values], apiVersions: monitoringApis });
        expect(result.code, result.output).toBe(0);
        writeFileSync(join(dir, `${name}.yaml`), result.stdout);
      }
      const reports = checkov(["--framework", "kubernetes", "--directory", dir]);
      expect(failures(reports)).toEqual([]);
      expect(summary(reports).passed).toBeGreaterThan(300);
      expectSkipsExplained(reports);
    },
    scanTimeout,
  );

  it(
    "passes every Dockerfile check on the API and worker images",
    () => {
      const reports = checkov([
        "--framework",
        "dockerfile",
        "--file",
        join(repoRoot, "services", "api", "Dockerfile"),
        "--file",
        join(repoRoot, "services", "worker", "Dockerfile"),
      ]);
      expect(failures(reports)).toEqual([]);
      expect(summary(reports).passed).toBeGreaterThan(40);
    },
    scanTimeout,
  );

  it(
    "passes every GitHub Actions check on the workflows",
    () => {
      const workflows = join(repoRoot, ".github", "workflows");
      const files = existsSync(workflows) ? readdirSync(workflows).filter((f) => /\.ya?ml$/.test(f)) : [];
      expect(files.length, "no workflows in .github/workflows").toBeGreaterThan(0);
      const reports = checkov(["--framework", "github_actions", "--directory", join(repoRoot, ".github")]);
      expect(failures(reports)).toEqual([]);
      expectSkipsExplained(reports);
    },
    scanTimeout,
  );

  it(
    "fails an unencrypted, public S3 bucket (the scan is live)",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "checkov-bad-"));
      mkdirSync(join(dir, "bad"));
      writeFileSync(join(dir, "bad", "main.tf"), 'resource "aws_s3_bucket" "open" {\n  bucket = "open"\n}\n');
      const reports = checkov(["--framework", "terraform", "--directory", dir]);
      const failed = failures(reports).map((f) => f.split(" ")[0]);
      expect(failed).toContain("CKV2_AWS_6"); // no public access block
      expect(failed).toContain("CKV_AWS_145"); // no KMS encryption
    },
    scanTimeout,
  );
});

/** zizmor's findings of medium severity or higher, offline (no GitHub API calls), as `ident severity file:line`. */
function zizmor(dir: string): string[] {
  const result = run(toolPath("zizmor"), ["--offline", "--min-severity", "medium", "--format", "json", dir]);
  // zizmor exits non-zero when it reports findings; the JSON on stdout is what counts.
  const findings = JSON.parse(result.stdout || "null") as Array<{
    ident: string;
    determinations: { severity: string };
    locations: {
      symbolic: { key: { Local: { given_path: string } } };
      concrete: { location: { start_point: { row: number } } };
    }[];
  }> | null;
  if (!findings) throw new Error(`zizmor did not run:\n${result.output}`);
  return findings.map((f) => {
    const where = f.locations[0];
    const file = where?.symbolic.key.Local?.given_path ?? "?";
    return `${f.ident} ${f.determinations.severity} ${file}:${(where?.concrete.location.start_point.row ?? 0) + 1}`;
  });
}

describe("zizmor (offline)", () => {
  it(
    "finds nothing of medium severity or higher in the workflows",
    () => {
      expect(zizmor(join(repoRoot, ".github", "workflows"))).toEqual([]);
    },
    scanTimeout,
  );

  it(
    "flags a template injection and a persisted push token (the audit is live)",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "zizmor-bad-"));
      const workflows = join(dir, ".github", "workflows");
      mkdirSync(workflows, { recursive: true });
      writeFileSync(
        join(workflows, "bad.yml"),
        [
          "name: bad",
          "on: push",
          "permissions:",
          "  contents: read",
          "jobs:",
          "  a:",
          "    runs-on: ubuntu-24.04",
          "    steps:",
          "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
          `      - run: echo "${"$"}{{ github.event.head_commit.message }}"`,
          "",
        ].join("\n"),
      );
      const found = zizmor(workflows).map((line) => line.split(" ").slice(0, 2).join(" "));
      expect(found).toContain("template-injection High");
      expect(found).toContain("artipacked Medium");
    },
    scanTimeout,
  );
});
