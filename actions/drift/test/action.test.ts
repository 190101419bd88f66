import { readFileSync } from "node:fs";
import { join } from "node:path";
import { updateEnvironmentFile } from "@content-engine/environments";
import { beforeEach, describe, expect, it } from "vitest";
import { createEcsService, digest, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { errorLines, runBundledAction, scratchWorkspace } from "../../delivery/test/support/run-action.ts";

const moto = useMoto();
beforeEach(() => moto.reset());
const env = testEnvironment();

/** A workspace whose dev.yaml names digest b, with dev's service running digest a. */
async function driftedWorkspace() {
  await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
  const workspace = scratchWorkspace();
  updateEnvironmentFile(join(workspace, "environments", "dev.yaml"), [
    { path: ["image", "digest"], value: digest("b") },
  ]);
  return workspace;
}

describe("drift dist/index.js run as the runner runs it", () => {
  it("reports the drifted service in the summary, the outputs and the JSON report, and fails", async () => {
    const workspace = await driftedWorkspace();
    const run = await runBundledAction(
      "drift",
      { environment: "dev", reconcile: "false", "report-issue": "false", "aws-endpoint": moto.endpoint },
      { workspace },
    );
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe("failed");
    expect(run.outputs.drifted).toBe("true");
    expect(run.outputs["drifted-resources"]).toBe("ecs-service");
    expect(run.outputs.reconciled).toBe("false");
    expect(run.summary).toContain("## Drift: dev differs from its file");
    expect(run.summary).toContain(
      `| ecs-service | \`${env.api.cluster}/${env.api.service}\` | ✏️ differs | image: ${env.image.repository}@${digest("a")} → ${env.image.repository}@${digest("b")}`,
    );
    const report = JSON.parse(readFileSync(run.outputs.report!, "utf8")) as {
      environment: string;
      resources: { kind: string; differs: boolean }[];
    };
    expect(report.environment).toBe("dev");
    expect(report.resources.find((r) => r.kind === "ecs-service")?.differs).toBe(true);
    // Nothing was reconciled: the service still runs digest a.
    expect(run.outputs.reason).toMatch(/^dev drifted from its file: ecs-service \(not reconciled\)$/);
  });

  it("refuses a reconcile value it does not know, before reading anything", async () => {
    const run = await runBundledAction(
      "drift",
      { environment: "dev", reconcile: "yes please", "aws-endpoint": moto.endpoint },
      { workspace: scratchWorkspace() },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual(['::error::input reconcile: expected "auto", "true" or "false"']);
  });

  it("says how to pass a token when report-issue is on and no token is given", async () => {
    const run = await runBundledAction(
      "drift",
      { environment: "dev", "aws-endpoint": moto.endpoint },
      { workspace: scratchWorkspace(), env: { GITHUB_TOKEN: "" } },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run)[0]).toMatch(/^::error::GitHub token is missing/);
  });

  it("names an unknown environment", async () => {
    const run = await runBundledAction(
      "drift",
      { environment: "qa", "report-issue": "false", "aws-endpoint": moto.endpoint },
      { workspace: scratchWorkspace() },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run)[0]).toContain('unknown environment "qa"');
  });
});
