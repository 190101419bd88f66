// Adding an environment is one environment file plus its terraform variables file. This adds `qa`
// between dev and staging in a temporary copy of the repository, as a person would, and checks that
// every consumer sees it without another edit: the workflows (actionlint, the environments action's
// matrices), promote's order, the CLI, alarms and dashboards generation, the chart values, terraform's
// variable checks. The rehearsal's "fourth environment" chain runs the workflows with it.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { loadEnvironments } from "@content-engine/environments";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentEngine } from "../../actions/delivery/test/support/content-engine.ts";
import { runBundledAction } from "../../actions/delivery/test/support/run-action.ts";
import { renderAlarms } from "../../alarms/src/generate.ts";
import { renderDashboards } from "../../dashboards/src/generate.ts";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import {
  environmentReleaseValues,
  helmTemplate,
  monitoringApis,
  parseManifests,
  writeValuesFile,
} from "../support/helm.ts";
import { addEnvironment, writeGenerated } from "../support/new-environment.ts";
import { run } from "../support/run.ts";
import { checkEnvironmentVars } from "../support/terraform-env.ts";

let copy: string;
let added: string[];
const git = (...args: string[]) =>
  spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: copy, encoding: "utf8" });

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), "fourth-environment-"));
  const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
    encoding: "utf8",
  }).stdout.split("\0");
  for (const file of files.filter(Boolean)) {
    try {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(repoRoot, file), join(copy, file), { verbatimSymlinks: true });
    } catch {
      // deleted in the working tree, not yet committed
    }
  }
  git("init", "-q");
  git("add", "-A");
  git("commit", "-qm", "the repository");
  added = addEnvironment(copy, { name: "qa", from: "dev", accountId: "444444444444" });
  git("add", "-A");
  git("commit", "-qm", "add qa");
});

afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe("a fourth environment, qa, added by one file and its terraform variables", () => {
  it("is one new environment file, one new tfvars file, and staging's promotion.from", () => {
    expect(added).toEqual(["environments/qa.yaml", "environments/staging.yaml", "terraform/envs/qa.tfvars"]);
    const diff = git("diff", "--stat", "HEAD^", "HEAD").stdout;
    expect(diff).toMatch(/3 files changed/);
    expect(git("diff", "HEAD^", "HEAD", "--", "environments/staging.yaml").stdout).toMatch(
      /^-\s+from: dev.*\n\+\s+from: qa/m,
    );
  });

  it("takes its place in the promotion order", () => {
    const set = loadEnvironments(join(copy, "environments"));
    const before = loadEnvironments(join(repoRoot, "environments")).names;
    expect(set.names).toEqual([before[0], "qa", ...before.slice(1)]);
    expect(set.promotions.slice(0, 2)).toEqual([
      { from: "dev", to: "qa" },
      { from: "qa", to: "staging" },
    ]);
    const refused = contentEngine(
      ["promote", "--from", "dev", "--to", "staging", "--plan", "--repository", "acme/content-engine"],
      copy,
    );
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      /cannot promote from dev to staging: staging promotes from qa .*; dev promotes to qa/,
    );
  });

  it("is in every matrix the workflows take from the environments action, and the workflows still lint", async () => {
    const all = await runBundledAction("environments", { "changed-since": "HEAD^" }, { workspace: copy });
    expect(all.code, all.stdout).toBe(0);
    expect(JSON.parse(all.outputs.names!)).toContain("qa");
    expect(JSON.parse(all.outputs.changed!)).toEqual(["qa", "staging"]);
    expect(JSON.parse(all.outputs.promotions!)).toContainEqual({ from: "qa", to: "staging" });
    const one = await runBundledAction("environments", { environment: "qa" }, { workspace: copy });
    expect(one.outputs.environment).toBe("qa");
    const lint = run(toolPath("actionlint"), ["-no-color"], { cwd: copy });
    expect(lint.code, lint.output).toBe(0);
  });

  it("gets its alarms and dashboards from npm run generate, and nothing else of the generated output changes", () => {
    const written = writeGenerated(copy);
    expect(written.length).toBeGreaterThan(0);
    expect(written.filter((file) => !/(^|\/)qa[-/.]/.test(file))).toEqual([]);
  });

  it("gets its alarms and dashboards generated, under its own names", () => {
    const alarms = renderAlarms(join(copy, "environments"));
    const cloudwatch = JSON.parse(alarms.get("qa/cloudwatch-alarms.json")!) as {
      environment: string;
      metricAlarms: Array<{ AlarmName: string; AlarmActions: string[] }>;
    };
    expect(cloudwatch.environment).toBe("qa");
    expect(cloudwatch.metricAlarms.length).toBeGreaterThan(5);
    for (const alarm of cloudwatch.metricAlarms) {
      expect(alarm.AlarmName).toMatch(/^content-engine-qa-/);
      for (const action of alarm.AlarmActions)
        expect(action).toMatch(/^arn:aws:sns:eu-west-1:444444444444:content-engine-qa-/);
    }
    expect(alarms.get("qa/prometheus-rules.yaml")).toContain('env="qa"');
    const dashboards = renderDashboards(join(copy, "environments"));
    expect([...dashboards.keys()]).toEqual(
      expect.arrayContaining([
        "grafana/qa-service-overview.json",
        "grafana/qa-platform.json",
        "cloudwatch/qa.json",
        "manifest/qa.json",
      ]),
    );
    expect(dashboards.get("grafana/qa-service-overview.json")).toContain('"qa"');
  });

  it("renders its chart values", () => {
    const qa = loadEnvironments(join(copy, "environments")).get("qa");
    const result = helmTemplate({
      valuesFiles: [writeValuesFile(environmentReleaseValues(qa), "helm-values-qa-")],
      apiVersions: monitoringApis,
    });
    expect(result.code, result.output).toBe(0);
    const monitor = parseManifests(result.stdout).find((m) => m.kind === "ServiceMonitor");
    expect(JSON.stringify(monitor)).toContain('"replacement":"qa"');
  });

  it("is accepted by the terraform environment root with its own variables file", async () => {
    const result = await checkEnvironmentVars(copy, join(copy, "terraform", "envs", "qa.tfvars"));
    expect(result.ok, result.output).toBe(true);
    expect(readFileSync(join(copy, "terraform", "envs", "qa.tfvars"), "utf8")).toMatch(
      /environment\s+= "qa"/,
    );
  });
});
