// The deploy-ecs options of the content-engine CLI: the same deployEcs/planEcs the action calls.
import { join } from "node:path";
import { DescribeServicesCommand } from "@aws-sdk/client-ecs";
import { updateEnvironmentFile } from "@content-engine/environments";
import { beforeEach, describe, expect, it } from "vitest";
import { createEcsService, digest, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { contentEngine } from "./support/content-engine.ts";
import { scratchWorkspace } from "./support/run-action.ts";

const moto = useMoto();
beforeEach(() => moto.reset());
const env = testEnvironment();

describe("content-engine deploy-ecs options", () => {
  it("--no-wait answers started with the deployment id while the new tasks are not running yet", async () => {
    const { ecs } = await createEcsService(
      moto.endpoint,
      env,
      `${env.image.repository}@${digest("a")}`,
      false,
    );
    const run = contentEngine(
      [
        "deploy-ecs",
        "--env",
        "dev",
        "--digest",
        digest("b"),
        "--no-wait",
        "--json",
        "--endpoint",
        moto.endpoint,
      ],
      scratchWorkspace(),
    );
    expect(run.status).toBe(0);
    // Progress lines first, then the outcome as JSON.
    const outcome = JSON.parse(run.stdout.slice(run.stdout.indexOf("\n{\n") + 1));
    expect(outcome.status).toBe("started");
    const service = (
      await ecs.send(new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }))
    ).services![0]!;
    expect(service.runningCount).toBe(0);
    expect(service.taskDefinition).toBe(outcome.revisions.current);
    expect(service.deployments?.map((d) => d.id)).toContain(outcome.outputs["deployment-id"]);
    expect(outcome.reason).toContain(`in deployment ${outcome.outputs["deployment-id"]}; not waited for`);
  });

  it("--plan prints the file's pre-deploy task between registering and the service update", async () => {
    await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    const workspace = scratchWorkspace();
    updateEnvironmentFile(join(workspace, "environments", "dev.yaml"), [
      { path: ["api", "preDeploy"], value: [{ command: ["npm", "run", "migrate"], timeoutSeconds: 120 }] },
    ]);
    const run = contentEngine(
      [
        "deploy-ecs",
        "--env",
        "dev",
        "--digest",
        digest("b"),
        "--plan",
        "--poll-seconds",
        "2",
        "--endpoint",
        moto.endpoint,
      ],
      workspace,
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      "RunTask content-engine-dev-api (pre-deploy 1/1: npm run migrate, timeout 120s): a non-zero exit stops the deploy before UpdateService",
    );
    expect(run.stdout).toContain("wait for the rollout (poll every 2s)");
  });

  it.each([
    [["--poll-seconds=-1"], 'content-engine: --poll-seconds "-1" is not a number of seconds greater than 0'],
    [
      ["--poll-seconds", "soon"],
      'content-engine: --poll-seconds "soon" is not a number of seconds greater than 0',
    ],
  ])("refuses %j with a usage error (exit 2) naming the option", (args, message) => {
    const run = contentEngine(["deploy-ecs", "--env", "dev", ...args], scratchWorkspace());
    expect(run.status).toBe(2);
    expect(run.stderr.split("\n")[0]).toBe(message);
  });
});
