import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeServicesCommand, ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { updateEnvironmentFile } from "@content-engine/environments";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeGitHub, startFakeGitHub } from "../../../test/rehearsal/fake-github.ts";
import { git } from "../../../test/rehearsal/git.ts";
import { createEcsService, digest, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { errorLines, runBundledAction, scratchWorkspace } from "../../delivery/test/support/run-action.ts";
import { createLoadBalancer } from "../../observability-apply/test/support.ts";

const moto = useMoto();
beforeEach(() => moto.reset());
const env = testEnvironment();

describe("deploy-ecs dist/index.js run as the runner runs it", () => {
  it("rolls the service to the new digest, then reports unchanged on the second run", async () => {
    const { ecs } = await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    const workspace = scratchWorkspace();
    const inputs = { environment: "dev", digest: digest("b"), "aws-endpoint": moto.endpoint };

    const first = await runBundledAction("deploy-ecs", inputs, { workspace });
    expect(first.code).toBe(0);
    expect(first.outputs.status).toBe("succeeded");
    expect(first.outputs.image).toBe(`${env.image.repository}@${digest("b")}`);
    expect(first.summary).toContain("deploy-ecs content-engine-dev/content-engine-api: succeeded");
    const live = await ecs.send(
      new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }),
    );
    expect(live.services?.[0]?.taskDefinition).toBe(first.outputs["task-definition-arn"]);

    const second = await runBundledAction("deploy-ecs", inputs, { workspace });
    expect(second.code).toBe(0);
    expect(second.outputs.status).toBe("unchanged");
    expect(second.outputs.revision).toBe(first.outputs.revision);
  });

  it("plans without registering a task definition", async () => {
    const { ecs } = await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    const run = await runBundledAction(
      "deploy-ecs",
      { environment: "dev", digest: digest("c"), "aws-endpoint": moto.endpoint, plan: "true" },
      { workspace: scratchWorkspace() },
    );
    expect(run.outputs.status).toBe("planned");
    expect(run.summary).toContain(
      `| image | \`${env.image.repository}@${digest("a")}\` | \`${env.image.repository}@${digest("c")}\` |`,
    );
    const families = await ecs.send(new ListTaskDefinitionsCommand({}));
    expect(families.taskDefinitionArns).toHaveLength(1);
  });

  it.each([
    [
      { environment: "qa" },
      'unknown environment "qa": no environments/qa.yaml (the environments are dev, prod, staging)',
    ],
    [
      { environment: "dev", digest: "latest" },
      'digest "latest" is not an image digest: expected sha256:<64 hex characters>',
    ],
    [
      { environment: "dev", digest: `sha256:${"b".repeat(64)}` },
      'ECS cluster "content-engine-dev" does not exist (api.cluster in environments/dev.yaml)',
    ],
    [
      { environment: "dev", "force-new-deployment": "yes please" },
      'input force-new-deployment: expected "true" or "false"',
    ],
    [{ environment: "dev", wait: "later" }, 'input wait: expected "true" or "false"'],
    [{ environment: "dev", "poll-seconds": "-1" }, "input poll-seconds: a number of seconds greater than 0"],
  ])("fails with one clear line for bad input %j", async (inputs, message) => {
    const run = await runBundledAction(
      "deploy-ecs",
      { ...inputs, "aws-endpoint": moto.endpoint },
      { workspace: scratchWorkspace() },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual([`::error::${message}`]);
    expect(run.outputs.status).toBe("failed");
  });

  it("forces a new deployment of an unchanged service with force-new-deployment: true", async () => {
    const { ecs } = await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    const before = await ecs.send(
      new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }),
    );
    const run = await runBundledAction(
      "deploy-ecs",
      {
        environment: "dev",
        digest: digest("a"),
        "aws-endpoint": moto.endpoint,
        "force-new-deployment": "true",
      },
      { workspace: scratchWorkspace() },
    );
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe("succeeded");
    expect(run.outputs.reason).toMatch(/^forced a new deployment: /);
    const after = await ecs.send(
      new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }),
    );
    expect(after.services?.[0]?.deployments?.[0]?.id).not.toBe(before.services?.[0]?.deployments?.[0]?.id);
  });

  it("answers started with the deployment id with wait: false, before the new tasks run", async () => {
    const { ecs } = await createEcsService(
      moto.endpoint,
      env,
      `${env.image.repository}@${digest("a")}`,
      false,
    );
    const run = await runBundledAction(
      "deploy-ecs",
      {
        environment: "dev",
        digest: digest("b"),
        "aws-endpoint": moto.endpoint,
        wait: "false",
        "poll-seconds": "1",
      },
      { workspace: scratchWorkspace() },
    );
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe("started");
    const service = (
      await ecs.send(new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }))
    ).services![0]!;
    expect(service.runningCount).toBe(0);
    expect(service.deployments?.map((d) => d.id)).toContain(run.outputs["deployment-id"]);
    expect(run.summary).toContain("deploy-ecs content-engine-dev/content-engine-api: started");
  });

  it("refuses inside a freeze window, and deploys with break-glass, recording it in the job summary", async () => {
    await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    const workspace = scratchWorkspace();
    updateEnvironmentFile(`${workspace}/environments/dev.yaml`, [
      {
        path: ["promotion", "freezeWindows"],
        value: [{ start: "2000-01-01T00:00:00Z", end: "2100-01-01T00:00:00Z", reason: "test freeze" }],
      },
    ]);
    const inputs = { environment: "dev", digest: digest("b"), "aws-endpoint": moto.endpoint };

    const refused = await runBundledAction("deploy-ecs", inputs, { workspace });
    expect(refused.code).toBe(1);
    expect(refused.outputs.status).toBe("failed");
    expect(refused.outputs.reason).toBe(
      "refused: dev is frozen: test freeze (2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z) (set break-glass to override)",
    );

    const forced = await runBundledAction(
      "deploy-ecs",
      { ...inputs, "break-glass": "hotfix INC-7" },
      { workspace },
    );
    expect(forced.code).toBe(0);
    expect(forced.outputs.status).toBe("succeeded");
    expect(forced.summary).toContain('break-glass: hotfix INC-7 (freeze window "test freeze" overridden)');
    expect(forced.stdout).toContain(
      '::warning::break-glass: hotfix INC-7 (freeze window "test freeze" overridden)',
    );
  });

  it("names file and field when the environment file has a wrong type", async () => {
    const workspace = scratchWorkspace();
    const { readFileSync, writeFileSync } = await import("node:fs");
    const file = `${workspace}/environments/dev.yaml`;
    writeFileSync(file, readFileSync(file, "utf8").replace("desiredCount: 1", "desiredCount: one"));
    const run = await runBundledAction(
      "deploy-ecs",
      { environment: "dev", "aws-endpoint": moto.endpoint },
      { workspace },
    );
    expect(errorLines(run)).toEqual([
      '::error::environments/dev.yaml: api.desiredCount: expected number, got "one"',
    ]);
  });
});

describe("deploy-ecs without usable AWS credentials", () => {
  it("says the credentials are missing in one line instead of a stack trace", async () => {
    const run = await runBundledAction(
      "deploy-ecs",
      { environment: "dev", digest: `sha256:${"b".repeat(64)}`, "aws-endpoint": moto.endpoint },
      {
        workspace: scratchWorkspace(),
        env: {
          AWS_ACCESS_KEY_ID: "",
          AWS_SECRET_ACCESS_KEY: "",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_CONFIG_FILE: "/nonexistent",
          AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
        },
      },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual([
      "::error::AWS credentials are missing: assume the deploy role with aws-actions/configure-aws-credentials (OIDC) or set AWS_PROFILE locally",
    ]);
  });
});

describe("deploy-ecs records the deploy as a GitHub deployment", () => {
  let github: FakeGitHub;
  beforeAll(async () => {
    const bare = mkdtempSync(join(tmpdir(), "deploy-ecs-bare-"));
    git(bare, ["init", "-q", "--bare"]);
    github = await startFakeGitHub(bare, "acme/content-engine");
  });
  afterAll(() => github?.close());
  beforeEach(() => {
    github.deployments.length = 0;
    github.failures.clear();
  });

  const SHA = "0123456789abcdef0123456789abcdef01234567";
  const RUN = "https://github.com/acme/content-engine/actions/runs/42";
  const runner = (extra: Record<string, string> = {}) => ({
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_RUN_ID: "42",
    GITHUB_RUN_ATTEMPT: "1",
    ...extra,
  });
  const inputs = () => ({
    environment: "dev",
    digest: digest("b"),
    "aws-endpoint": moto.endpoint,
    "github-token": "ghs_test",
    "github-api-url": github.apiUrl,
  });

  it("in_progress, then success with the load balancer's URL and the run as log_url; a later step of the job continues it", async () => {
    await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    await createLoadBalancer(moto.endpoint);
    const workspace = scratchWorkspace();
    const githubEnv = join(mkdtempSync(join(tmpdir(), "github-env-")), "env");
    writeFileSync(githubEnv, "");

    const run = await runBundledAction("deploy-ecs", inputs(), {
      workspace,
      env: runner({ GITHUB_ENV: githubEnv }),
    });
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe("succeeded");
    expect(github.deployments).toHaveLength(1);
    const [deployment] = github.deployments;
    expect(deployment).toMatchObject({
      sha: SHA,
      environment: "dev",
      task: "deploy",
      auto_merge: false,
      required_contexts: [],
      production_environment: false,
      payload: { digest: digest("b"), tag: env.image.tag, deploy: "ecs" },
    });
    const url = deployment!.statuses[0]!.environment_url;
    expect(url).toMatch(new RegExp(`^http://${env.api.loadBalancer}[-.]`));
    expect(deployment!.statuses.map((s) => [s.state, s.environment_url, s.log_url])).toEqual([
      ["in_progress", url, RUN],
      ["success", url, RUN],
    ]);
    expect(run.outputs["github-deployment-id"]).toBe(String(deployment!.id));
    expect(run.outputs["environment-url"]).toBe(url);
    expect(run.summary).toContain(
      `GitHub deployment [#${deployment!.id}](https://github.com/acme/content-engine/deployments/dev) of dev: \`success\` · environment URL ${url}`,
    );

    // The next step of the same job (GITHUB_ENV carries the deployment): one record, statuses appended.
    const carried = Object.fromEntries(
      [...readFileSync(githubEnv, "utf8").matchAll(/^(\w+)<<(\S+)\n([\s\S]*?)\n\2$/gm)].map((m) => [
        m[1]!,
        m[3]!,
      ]),
    );
    expect(Object.keys(carried)).toEqual(["CONTENT_ENGINE_DEPLOYMENT_DEV"]);
    const again = await runBundledAction("deploy-ecs", inputs(), { workspace, env: runner(carried) });
    expect(again.outputs.status).toBe("unchanged");
    expect(github.deployments).toHaveLength(1);
    expect(github.deployments[0]!.statuses.map((s) => s.state)).toEqual([
      "in_progress",
      "success",
      "in_progress",
      "success",
    ]);
  });

  it("records a failure, takes environment-url over the load balancer, and deploys when GitHub refuses (403)", async () => {
    const workspace = scratchWorkspace();
    // No ECS cluster: the deploy fails before any change, and the record says error.
    const failed = await runBundledAction(
      "deploy-ecs",
      { ...inputs(), "environment-url": "https://api.example.com" },
      { workspace, env: runner() },
    );
    expect(failed.code).toBe(1);
    expect(github.deployments[0]!.statuses.map((s) => [s.state, s.environment_url])).toEqual([
      ["in_progress", "https://api.example.com"],
      ["error", "https://api.example.com"],
    ]);
    expect(github.deployments[0]!.statuses[1]!.description).toContain("content-engine-dev");

    await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    github.failures.set("POST /deployments", 403);
    // Another run (43): run 42's deployment of dev is not this one's to continue.
    const refused = await runBundledAction("deploy-ecs", inputs(), {
      workspace,
      env: runner({ GITHUB_RUN_ID: "43" }),
    });
    expect(refused.code).toBe(0);
    expect(refused.outputs.status).toBe("succeeded");
    expect(refused.stdout).toMatch(
      /::warning::deployment of dev not recorded on GitHub \(GitHub POST \/repos\/acme\/content-engine\/deployments failed \(403\)/,
    );
    expect(github.deployments).toHaveLength(1);
  });
});
