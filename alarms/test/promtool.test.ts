import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { environmentNames } from "@content-engine/environments";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toolPath } from "../../scripts/tools.ts";
import { generatedAlarmsDir } from "../src/generate.ts";

// The environments are the files: every test below covers each one there is.
const ENVIRONMENT_NAMES = environmentNames();

const promtool = (...args: string[]) => {
  const result = spawnSync(toolPath("promtool"), args, { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
};
const unitTests = join(import.meta.dirname, "rules", "prod.rules.test.yaml");
const alertsOf = (env: string) =>
  (
    parse(readFileSync(join(generatedAlarmsDir, env, "prometheus-rules.yaml"), "utf8")) as {
      groups: Array<{ rules: Array<{ alert: string }> }>;
    }
  ).groups.flatMap((g) => g.rules.map((r) => r.alert));

interface UnitTests {
  rule_files: string[];
  tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

describe("the generated Prometheus alerting rules", () => {
  it.each(ENVIRONMENT_NAMES)("pass promtool check rules for %s", (name) => {
    const { status, output } = promtool(
      "check",
      "rules",
      join(generatedAlarmsDir, name, "prometheus-rules.yaml"),
    );
    expect(output).toContain(`SUCCESS: ${alertsOf(name).length} rules found`);
    expect(status).toBe(0);
  });

  it("fire and stay quiet as the promtool unit tests expect (prod)", () => {
    const { status, output } = promtool("test", "rules", unitTests);
    expect(output).toContain("SUCCESS");
    expect(status, output).toBe(0);
  });

  it("each have a firing case and a quiet case in the unit tests (prod)", () => {
    const tests = parse(readFileSync(unitTests, "utf8")) as UnitTests;
    expect(tests.rule_files).toEqual(["../../generated/prod/prometheus-rules.yaml"]);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    const firing = new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
    const quiet = new Set(cases.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => c.alertname));
    const alerts = alertsOf("prod");
    expect(alerts.length).toBeGreaterThan(10);
    expect(
      alerts.filter((a) => !firing.has(a)),
      "alerts never shown firing",
    ).toEqual([]);
    expect(
      alerts.filter((a) => !quiet.has(a)),
      "alerts never shown quiet",
    ).toEqual([]);
    // A case for an alert that no longer exists is a stale test.
    expect(
      [...firing, ...quiet].filter((a) => !alerts.includes(a)),
      "cases of unknown alerts",
    ).toEqual([]);
  });

  it("fail the unit tests when an expectation is wrong, so a pass above means the rules fired", () => {
    const dir = mkdtempSync(join(tmpdir(), "ce-rules-"));
    try {
      const rules = join(generatedAlarmsDir, "prod", "prometheus-rules.yaml");
      const wrong = readFileSync(unitTests, "utf8")
        .replace("../../generated/prod/prometheus-rules.yaml", rules)
        .replace(
          /summary: The API answered more than 5 5xx responses in 5 minutes[^\n]*/,
          "summary: something else",
        );
      writeFileSync(join(dir, "wrong.test.yaml"), wrong);
      const { status, output } = promtool("test", "rules", join(dir, "wrong.test.yaml"));
      expect(status).not.toBe(0);
      expect(output).toContain("ContentEngineApi5xx");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
