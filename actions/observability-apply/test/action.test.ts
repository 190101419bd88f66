import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { createClient } from "@content-engine/delivery";
import { beforeEach, describe, expect, it } from "vitest";
import { awsFor } from "../../../test/support/delivery-fixtures.ts";
import { MOTO_CREDENTIALS, MOTO_REGION, useMoto } from "../../../test/support/moto.ts";
import {
  errorLines,
  repositoryRoot,
  runBundledAction,
  scratchWorkspace,
} from "../../delivery/test/support/run-action.ts";
import {
  alarmsFolder,
  createLoadBalancer,
  dashboardsDir,
  generatedAlarms,
  startFakeGrafana,
} from "./support.ts";

const moto = useMoto();
beforeEach(() => moto.reset());

/** A workspace with environments/ and the dev metric alarms at alarms/generated (moto has no composites). */
function workspaceWithAlarms(): string {
  const workspace = scratchWorkspace();
  mkdirSync(join(workspace, "alarms"));
  cpSync(
    alarmsFolder({ ...generatedAlarms("dev"), compositeAlarms: [] }),
    join(workspace, "alarms", "generated"),
    { recursive: true },
  );
  return workspace;
}

describe("observability-apply dist/index.js run as the runner runs it", () => {
  it("plans without creating anything, then applies, publishing to Grafana with a masked token", async () => {
    await createLoadBalancer(moto.endpoint);
    const grafana = await startFakeGrafana();
    try {
      const workspace = workspaceWithAlarms();
      const inputs = {
        environment: "dev",
        "dashboards-dir": dashboardsDir,
        "grafana-url": grafana.url,
        "grafana-token": grafana.token,
        "aws-endpoint": moto.endpoint,
      };
      const plan = await runBundledAction("observability-apply", { ...inputs, plan: "true" }, { workspace });
      expect(plan.code).toBe(0);
      expect(plan.outputs.status).toBe("planned");
      expect(plan.summary).toContain("1. create metric alarm content-engine-dev-queue-age");
      expect(plan.summary).toContain("1. create grafana dashboard ce-dev-overview");
      const cloudwatch = createClient(CloudWatchClient, awsFor(moto.endpoint));
      expect((await cloudwatch.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual([]);

      const run = await runBundledAction("observability-apply", inputs, { workspace });
      expect(run.code, run.stdout).toBe(0);
      expect(run.outputs.status).toBe("succeeded");
      expect(Number(run.outputs["alarms-created"])).toBe(generatedAlarms("dev").metricAlarms.length);
      expect(run.stdout).toContain(`::add-mask::${grafana.token}`);
      expect(run.summary).not.toContain(grafana.token);
      expect(grafana.saved.size).toBe(2);
    } finally {
      await grafana.stop();
    }
  });

  it.each([
    [
      { environment: "qa" },
      'unknown environment "qa": no environments/qa.yaml (the environments are dev, prod, staging)',
    ],
    [
      { environment: "dev", "grafana-url": "http://127.0.0.1:9" },
      "input grafana-token: required with grafana-url (pass it from a secret)",
    ],
    [
      { environment: "dev", "alarms-dir": "nowhere" },
      /generated alarms .*nowhere\/dev\/cloudwatch-alarms.json does not exist: run npm run generate and commit/,
    ],
  ])("fails with one clear line for bad input %j", async (inputs, message) => {
    const run = await runBundledAction(
      "observability-apply",
      { ...inputs, "aws-endpoint": moto.endpoint },
      { workspace: workspaceWithAlarms() },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run)).toHaveLength(1);
    expect(errorLines(run)[0]).toMatch(typeof message === "string" ? `::error::${message}` : message);
    expect(run.outputs.status).toBe("failed");
  });
});

describe("content-engine observability-apply (CLI)", () => {
  it("plans the repository's generated alarms and dashboards for an environment, composites included", async () => {
    await createLoadBalancer(moto.endpoint);
    const run = spawnSync(
      process.execPath,
      [
        join(repositoryRoot, "actions", "delivery", "src", "cli.ts"),
        "observability-apply",
        "--env",
        "dev",
        "--plan",
        "--endpoint",
        moto.endpoint,
      ],
      {
        cwd: repositoryRoot,
        encoding: "utf8",
        env: {
          PATH: process.env.PATH,
          AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
          AWS_REGION: MOTO_REGION,
        },
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("### 📝 plan: observability-apply dev (content-engine-dev-*)");
    expect(run.stdout).toContain("1. create composite alarm content-engine-dev-service-unhealthy");
    expect(run.stdout).toContain("1. create cloudwatch dashboard content-engine-dev-overview");
  });
});
