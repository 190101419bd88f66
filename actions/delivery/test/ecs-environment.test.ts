import {
  type ContainerDefinition,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { beforeEach, describe, expect, it } from "vitest";
import {
  awsFor,
  createEcsService,
  digest,
  testEnvironment,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { deployEcs, planEcs } from "../src/ecs.ts";
import { memoryReporter } from "../src/reporter.ts";
import { registerRevisionLike } from "./support/ecs-revisions.ts";

const moto = useMoto();
beforeEach(() => moto.reset());

const plain = testEnvironment();
const appImage = `${plain.image.repository}@${digest("a")}`;
const fast = { pollSeconds: 0.05, progressSeconds: 0, timeoutSeconds: 2 };
const apiKeys = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:content-engine-dev/api-keys-AbCdEf";
const dbPassword =
  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:content-engine-dev/db-GhIjKl:password::";
const webhookToken = "arn:aws:ssm:eu-west-1:123456789012:parameter/content-engine/dev/webhook-token";
const LOG_GROUP = "/ecs/content-engine-dev/api";

const env = testEnvironment([
  [["api", "environment"], { FEATURE_X: "on", TENANT_LIMIT: "5" }],
  [["api", "secrets"], { DB_PASSWORD: dbPassword, WEBHOOK_TOKEN: webhookToken }],
  [["api", "logConfiguration"], { options: { "awslogs-stream-prefix": "app", mode: "non-blocking" } }],
]);

/** The service on the revision terraform registers: its variables, the API keys secret, awslogs. */
async function createTerraformService() {
  const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, appImage);
  const terraform = await registerRevisionLike(ecs, taskDefinitionArn, ([api, ...rest]) => [
    {
      ...api!,
      environment: [
        { name: "PORT", value: "8080" },
        { name: "CONTENT_ENGINE_BUCKET", value: "content-engine-dev-123456789012" },
      ],
      secrets: [{ name: "CONTENT_ENGINE_API_KEYS", valueFrom: apiKeys }],
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": LOG_GROUP,
          "awslogs-region": "eu-west-1",
          "awslogs-stream-prefix": "api",
        },
      },
    },
    ...rest,
  ]);
  await ecs.send(
    new UpdateServiceCommand({
      cluster: env.api.cluster,
      service: env.api.service,
      taskDefinition: terraform,
    }),
  );
  return ecs;
}

async function servingContainers(ecs: ECSClient): Promise<ContainerDefinition[]> {
  const service = (
    await ecs.send(new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }))
  ).services![0]!;
  return (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition })))
    .taskDefinition!.containerDefinitions!;
}

const deploy = (environment = env) =>
  deployEcs({
    env: environment,
    digest: digest("a"),
    aws: awsFor(moto.endpoint),
    reporter: memoryReporter(),
    ...fast,
  });

describe("deployEcs environment, secrets and log configuration (api.environment, api.secrets, api.logConfiguration) against moto", () => {
  it("renders the file's variables, secret ARNs and awslogs options into the application container, keeping terraform's", async () => {
    const ecs = await createTerraformService();
    const outcome = await deploy();
    expect(outcome.status).toBe("succeeded");
    const [api, sidecar] = await servingContainers(ecs);
    expect(api!.environment).toEqual([
      { name: "CONTENT_ENGINE_BUCKET", value: "content-engine-dev-123456789012" },
      { name: "FEATURE_X", value: "on" },
      { name: "PORT", value: "8080" },
      { name: "TENANT_LIMIT", value: "5" },
    ]);
    expect(api!.secrets).toEqual([
      { name: "CONTENT_ENGINE_API_KEYS", valueFrom: apiKeys },
      { name: "DB_PASSWORD", valueFrom: dbPassword },
      { name: "WEBHOOK_TOKEN", valueFrom: webhookToken },
    ]);
    expect(api!.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: {
        "awslogs-group": LOG_GROUP,
        "awslogs-region": "eu-west-1",
        "awslogs-stream-prefix": "app",
        mode: "non-blocking",
      },
    });
    expect(sidecar!.environment ?? []).toEqual([]);
    expect(sidecar!.secrets ?? []).toEqual([]);
  });

  it("plans each changed variable, a secret as its ARN, and each awslogs option as its own change", async () => {
    await createTerraformService();
    const plan = await planEcs({ env, digest: digest("a"), aws: awsFor(moto.endpoint) });
    expect(plan.changes).toEqual([
      { field: "environment.FEATURE_X", from: undefined, to: "on" },
      { field: "environment.TENANT_LIMIT", from: undefined, to: "5" },
      { field: "secrets.DB_PASSWORD", from: undefined, to: dbPassword },
      { field: "secrets.WEBHOOK_TOKEN", from: undefined, to: webhookToken },
      { field: "logConfiguration.awslogs-stream-prefix", from: "api", to: "app" },
      { field: "logConfiguration.mode", from: undefined, to: "non-blocking" },
    ]);
    expect(plan.steps.some((step) => step.startsWith("RegisterTaskDefinition"))).toBe(true);
  });

  it("answers unchanged when the file's settings already serve", async () => {
    await createTerraformService();
    expect((await deploy()).status).toBe("succeeded");
    const again = await deploy();
    expect(again.status).toBe("unchanged");
  });

  it("takes a variable moved from api.environment to api.secrets out of the environment", async () => {
    const ecs = await createTerraformService();
    const asVariable = testEnvironment([[["api", "environment"], { WEBHOOK_TOKEN: "not-yet-a-secret" }]]);
    expect((await deploy(asVariable)).status).toBe("succeeded");
    const asSecret = testEnvironment([[["api", "secrets"], { WEBHOOK_TOKEN: webhookToken }]]);
    const plan = await planEcs({ env: asSecret, digest: digest("a"), aws: awsFor(moto.endpoint) });
    expect(plan.changes).toEqual([
      { field: "environment.WEBHOOK_TOKEN", from: "not-yet-a-secret", to: undefined },
      { field: "secrets.WEBHOOK_TOKEN", from: undefined, to: webhookToken },
    ]);
    expect((await deploy(asSecret)).status).toBe("succeeded");
    const [api] = await servingContainers(ecs);
    expect(api!.environment?.map((e) => e.name)).toEqual(["CONTENT_ENGINE_BUCKET", "PORT"]);
    expect(api!.secrets?.map((e) => e.name)).toEqual(["CONTENT_ENGINE_API_KEYS", "WEBHOOK_TOKEN"]);
  });

  it("carries forward a variable the file no longer names, as it carries terraform's", async () => {
    const ecs = await createTerraformService();
    expect((await deploy()).status).toBe("succeeded");
    const fewer = testEnvironment([[["api", "environment"], { FEATURE_X: "off" }]]);
    const plan = await planEcs({ env: fewer, digest: digest("a"), aws: awsFor(moto.endpoint) });
    expect(plan.changes).toEqual([{ field: "environment.FEATURE_X", from: "on", to: "off" }]);
    expect((await deploy(fewer)).status).toBe("succeeded");
    const [api] = await servingContainers(ecs);
    expect(api!.environment?.find((e) => e.name === "TENANT_LIMIT")).toEqual({
      name: "TENANT_LIMIT",
      value: "5",
    });
  });

  it("refuses awslogs options for a container that does not log with awslogs, changing nothing", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, appImage);
    await expect(deploy()).rejects.toThrow(
      'api.logConfiguration in dev.yaml: container "api" does not log with awslogs (no log configuration)',
    );
    const service = (
      await ecs.send(new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }))
    ).services![0]!;
    expect(service.taskDefinition).toBe(taskDefinitionArn);
  });
});

describe("api.environment, api.secrets and api.logConfiguration in the environment file", () => {
  it("refuses a secret's value in place of its ARN, naming the field and never echoing the value", () => {
    const attempt = () => testEnvironment([[["api", "secrets"], { DB_PASSWORD: "hunter2-correct-horse" }]]);
    expect(attempt).toThrow("api.secrets.DB_PASSWORD: expected an ARN, never the value");
    expect(attempt).not.toThrow(/hunter2/);
  });

  it.each([
    ["arn:aws:s3:::content-engine-dev/db-password"],
    ["arn:aws:ssm:eu-west-1:123456789012:document/db-password"],
    ["arn:aws:secretsmanager:eu-west-1:1234:secret:db"],
  ])("refuses %s as a secret: not an SSM parameter or Secrets Manager secret ARN", (arn) => {
    expect(() => testEnvironment([[["api", "secrets"], { DB_PASSWORD: arn }]])).toThrow(
      "api.secrets.DB_PASSWORD: expected an ARN, never the value",
    );
  });

  it.each([
    ["PORT", "api.environment.PORT: expected a name terraform does not set"],
    [
      "CONTENT_ENGINE_BUCKET",
      "api.environment.CONTENT_ENGINE_BUCKET: expected a name terraform does not set",
    ],
    ["ECS_ENABLE_CONTAINER_METADATA", "expected a name the ECS agent does not set"],
    ["9LIVES", "api.environment.9LIVES: expected a variable name"],
  ])("refuses the variable %s, naming the field", (name, message) => {
    expect(() => testEnvironment([[["api", "environment"], { [name]: "x" }]])).toThrow(message);
  });

  it("refuses terraform's API keys secret and a name given both as a variable and as a secret", () => {
    expect(() => testEnvironment([[["api", "secrets"], { CONTENT_ENGINE_API_KEYS: webhookToken }]])).toThrow(
      "api.secrets.CONTENT_ENGINE_API_KEYS: expected a name terraform does not set",
    );
    expect(() =>
      testEnvironment([
        [["api", "environment"], { WEBHOOK_TOKEN: "x" }],
        [["api", "secrets"], { WEBHOOK_TOKEN: webhookToken }],
      ]),
    ).toThrow(
      "api.secrets.WEBHOOK_TOKEN: expected a variable named once: WEBHOOK_TOKEN is in api.environment too",
    );
  });

  it("refuses the log group, which stays terraform's (the execution role writes there only)", () => {
    expect(() =>
      testEnvironment([[["api", "logConfiguration"], { options: { "awslogs-group": "/elsewhere" } }]]),
    ).toThrow("api.logConfiguration.options: expected no unknown fields (awslogs-group)");
  });
});
