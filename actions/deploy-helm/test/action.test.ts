import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { updateEnvironmentFile } from "@content-engine/environments";
import { describe, expect, it } from "vitest";
import { toolPath } from "../../../scripts/tools.ts";
import { digest } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import {
  errorLines,
  repositoryRoot,
  runBundledAction,
  scratchWorkspace,
} from "../../delivery/test/support/run-action.ts";

const moto = useMoto();

describe("deploy-helm dist/index.js run as the runner runs it", () => {
  it("renders the chart with the environment's digest as its plan, using the real helm", async () => {
    const run = await runBundledAction(
      "deploy-helm",
      {
        environment: "dev",
        digest: digest("9"),
        chart: `${repositoryRoot}helm/content-engine`,
        helm: toolPath("helm"),
        plan: "true",
        offline: "true",
      },
      { workspace: scratchWorkspace() },
    );
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe("planned");
    expect(run.summary).toContain(`@${digest("9")}`);
    expect(run.summary).toContain("plan: deploy-helm content-engine-dev/content-engine/content-engine");
  });

  it("takes values-files (relative to the workspace) and set lines from the run, and refuses image.digest in set", async () => {
    const workspace = scratchWorkspace();
    mkdirSync(join(workspace, "deploy"));
    writeFileSync(join(workspace, "deploy", "overrides.yaml"), "config: { logLevel: warn }\n");
    const inputs = {
      environment: "dev",
      digest: digest("9"),
      helm: toolPath("helm"),
      plan: "true",
      offline: "true",
      "values-files": "deploy/overrides.yaml\n",
      set: "worker.concurrency=9\npodAnnotations.team=search\n",
    };
    const run = await runBundledAction("deploy-helm", inputs, { workspace });
    expect(run.code, run.stdout).toBe(0);
    expect(run.summary).toContain('LOG_LEVEL: "warn"');
    expect(run.summary).toMatch(/name: CONTENT_ENGINE_WORKER_CONCURRENCY\n\s+value: "9"/);
    expect(run.summary).toContain("2. values-files deploy/overrides.yaml");

    const refused = await runBundledAction(
      "deploy-helm",
      { ...inputs, set: `image.digest=${digest("8")}` },
      { workspace },
    );
    expect(refused.code).toBe(1);
    expect(errorLines(refused)).toEqual([
      "::error::set sets image.digest, which deploy-helm computes from environments/dev.yaml (image.digest): change the environment file (or the digest input) instead",
    ]);
  });

  it("fails with one line when the EKS cluster does not exist", async () => {
    const run = await runBundledAction(
      "deploy-helm",
      { environment: "dev", helm: toolPath("helm"), "aws-endpoint": moto.endpoint },
      { workspace: scratchWorkspace() },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual([
      '::error::EKS cluster "content-engine-dev" does not exist (eks.cluster in environments/dev.yaml)',
    ]);
  });

  it("refuses inside a freeze window before contacting AWS or the cluster; break-glass gets past it", async () => {
    const workspace = scratchWorkspace();
    updateEnvironmentFile(`${workspace}/environments/dev.yaml`, [
      {
        path: ["promotion", "freezeWindows"],
        value: [{ start: "2000-01-01T00:00:00Z", end: "2100-01-01T00:00:00Z", reason: "test freeze" }],
      },
    ]);
    // Nothing answers on port 9: the refusal cannot have come from AWS or a cluster.
    const inputs = { environment: "dev", helm: toolPath("helm"), "aws-endpoint": "http://127.0.0.1:9" };
    const refused = await runBundledAction("deploy-helm", inputs, { workspace });
    expect(refused.code).toBe(1);
    expect(refused.outputs.status).toBe("failed");
    expect(refused.outputs.reason).toBe(
      "refused: dev is frozen: test freeze (2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z) (set break-glass to override)",
    );

    const overridden = await runBundledAction(
      "deploy-helm",
      { ...inputs, "aws-endpoint": moto.endpoint, "break-glass": "rotate the certificate" },
      { workspace },
    );
    expect(overridden.stdout).toContain(
      '::warning::break-glass: rotate the certificate (freeze window "test freeze" overridden)',
    );
    expect(errorLines(overridden)).toEqual([
      '::error::EKS cluster "content-engine-dev" does not exist (eks.cluster in environments/dev.yaml)',
    ]);
  });
});
