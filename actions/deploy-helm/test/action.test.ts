import { describe, expect, it } from "vitest";
import { toolPath } from "../../../scripts/tools.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { digest } from "../../delivery/test/fixtures.ts";
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
});
