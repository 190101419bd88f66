import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { useMoto } from "../../../test/support/moto.ts";
import { deployEcs, planEcs } from "../src/ecs.ts";
import { DeliveryError } from "../src/errors.ts";
import { memoryReporter } from "../src/reporter.ts";
import { awsFor, createEcsService, digest, testEnvironment } from "./fixtures.ts";

const moto = useMoto();
beforeEach(() => moto.reset());

const env = testEnvironment();
const oldImage = `${env.image.repository}@${digest("a")}`;
const fast = { pollSeconds: 0.05, progressSeconds: 0, timeoutSeconds: 2 };

async function liveService(ecs: ECSClient) {
  const out = await ecs.send(
    new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }),
  );
  return out.services![0]!;
}

describe("deployEcs against moto", () => {
  it("moves the service to a new digest and reports succeeded", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    const reporter = memoryReporter();
    const outcome = await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter,
      ...fast,
    });

    expect(outcome.status).toBe("succeeded");
    expect(outcome.revisions.previous).toBe(taskDefinitionArn);
    const service = await liveService(ecs);
    expect(service.taskDefinition).toBe(outcome.revisions.current);
    const td = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition, include: ["TAGS"] }),
    );
    expect(td.taskDefinition?.containerDefinitions?.[0]?.image).toBe(
      `${env.image.repository}@${digest("b")}`,
    );
    expect(td.taskDefinition?.containerDefinitions?.[1]?.image).toContain("aws-for-fluent-bit");
    expect(td.taskDefinition?.containerDefinitions?.[0]?.environment).toEqual([
      { name: "PORT", value: "8080" },
    ]);
    expect(td.tags).toEqual([{ key: "owner", value: "platform" }]);
    expect(service.deploymentConfiguration?.deploymentCircuitBreaker).toEqual({
      enable: true,
      rollback: true,
    });
    expect(service.deploymentConfiguration?.alarms).toEqual({
      alarmNames: env.alarms.deploymentAlarms,
      enable: true,
      rollback: true,
    });
    expect(reporter.lines).toContain(`image: ${oldImage} -> ${env.image.repository}@${digest("b")}`);
  });

  it("carries a container terraform added to the family after the running revision (the metrics collector) to the service", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    const running = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn })))
      .taskDefinition!;
    // What terraform registers when modules/metrics gives the API task its collector sidecar; the
    // service keeps running the old revision (terraform ignores task_definition changes).
    const collector = {
      name: "metrics-collector",
      image: "quay.io/prometheus/prometheus:v2.53.4",
      essential: false,
      memory: 64,
    };
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: running.family!,
        cpu: running.cpu,
        memory: running.memory,
        networkMode: running.networkMode,
        requiresCompatibilities: running.requiresCompatibilities,
        executionRoleArn: running.executionRoleArn,
        containerDefinitions: [...running.containerDefinitions!, collector],
      }),
    );
    const outcome = await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });

    expect(outcome.status).toBe("succeeded");
    const td = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: (await liveService(ecs)).taskDefinition }),
    );
    expect(td.taskDefinition?.containerDefinitions?.map((c) => `${c.name} ${c.image}`)).toEqual([
      `api ${env.image.repository}@${digest("b")}`,
      "log-router public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
      `metrics-collector ${collector.image}`,
    ]);
  });

  it("reports unchanged and registers nothing when the digest is already live", async () => {
    const { ecs } = await createEcsService(moto.endpoint, env, oldImage);
    const first = await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    const second = await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(second.status).toBe("unchanged");
    expect(second.revisions.current).toBe(first.revisions.current);
    expect((await liveService(ecs)).taskDefinition).toBe(first.revisions.current);
  });

  it("restores the previous revision when the new tasks never reach running before the timeout", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage, false);
    const reporter = memoryReporter();
    const outcome = await deployEcs({
      env,
      digest: digest("c"),
      aws: awsFor(moto.endpoint),
      reporter,
      ...fast,
      timeoutSeconds: 0.5,
    });

    expect(outcome.status).toBe("rolled_back");
    expect(outcome.reason).toMatch(/did not finish within 0.5s .*running 0\/1.*; .*:1 serves again/);
    expect(outcome.revisions).toMatchObject({ previous: taskDefinitionArn, current: taskDefinitionArn });
    expect(outcome.revisions.attempted).not.toBe(taskDefinitionArn);
    expect((await liveService(ecs)).taskDefinition).toBe(taskDefinitionArn);
    expect(outcome.diagnostics.join("\n")).toContain("stopped tasks: none");
    expect(reporter.lines.some((line) => /running 0\/1, pending 1/.test(line))).toBe(true);
  });

  it("plans the image and sizing change without registering or updating anything", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    const sized = testEnvironment([
      [["api", "cpu"], 512],
      [["api", "memory"], 1024],
    ]);
    const plan = await planEcs({ env: sized, digest: digest("d"), aws: awsFor(moto.endpoint) });
    expect(plan.noop).toBe(false);
    expect(plan.changes).toEqual([
      { field: "image", from: oldImage, to: `${env.image.repository}@${digest("d")}` },
      { field: "cpu", from: "256", to: "512" },
      { field: "memory", from: "512", to: "1024" },
    ]);
    expect((await liveService(ecs)).taskDefinition).toBe(taskDefinitionArn);
  });

  it("refuses a digest that is not sha256 before calling AWS", async () => {
    await expect(deployEcs({ env, digest: "latest", aws: awsFor("http://127.0.0.1:9") })).rejects.toThrow(
      'digest "latest" is not an image digest: expected sha256:<64 hex characters>',
    );
  });

  it("names the environment field when the cluster does not exist", async () => {
    const error = await deployEcs({ env, digest: digest("b"), aws: awsFor(moto.endpoint) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toBe(
      'ECS cluster "content-engine-dev" does not exist (api.cluster in environments/dev.yaml)',
    );
  });

  it("names the environment field when the service does not exist", async () => {
    await createEcsService(moto.endpoint, env, oldImage);
    const missing = testEnvironment([[["api", "service"], "no-such-service"]]);
    await expect(
      deployEcs({ env: missing, digest: digest("b"), aws: awsFor(moto.endpoint) }),
    ).rejects.toThrow(
      'ECS service "no-such-service" does not exist in cluster "content-engine-dev" (api.service in environments/dev.yaml)',
    );
  });
});

describe("deployEcs rollouts moto cannot produce (aws-sdk-client-mock)", () => {
  const previous = "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7";
  const attempted = "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:8";
  const baseService = {
    serviceName: env.api.service,
    status: "ACTIVE",
    desiredCount: 1,
    runningCount: 1,
    taskDefinition: previous,
    deployments: [{ status: "PRIMARY", taskDefinition: previous, rolloutState: "COMPLETED" as const }],
  };

  function mockEcs(rollout: object[], afterwards: object) {
    const ecs = new ECSClient({ region: "eu-west-1" });
    const mock = mockClient(ecs);
    mock.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        family: "api",
        cpu: "256",
        memory: "512",
        containerDefinitions: [{ name: "api", image: oldImage }],
      },
    });
    mock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: attempted } });
    mock.on(UpdateServiceCommand).resolves({});
    const describe = mock.on(DescribeServicesCommand);
    describe.resolvesOnce({ services: [baseService] });
    for (const services of rollout) describe.resolvesOnce({ services: [services] });
    describe.resolves({ services: [afterwards] });
    return { ecs, mock };
  }

  it("(mocked: moto cannot fail a rollout) reports rolled_back when the circuit breaker rolled ECS back", async () => {
    const failedRollout = {
      ...baseService,
      taskDefinition: previous,
      events: [{ id: "e1", message: "(service api) deployment failed: tasks failed to start." }],
      deployments: [
        { status: "PRIMARY", taskDefinition: previous, rolloutState: "IN_PROGRESS" },
        {
          status: "ACTIVE",
          taskDefinition: attempted,
          rolloutState: "FAILED",
          rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.",
        },
      ],
    };
    const rolledBack = {
      ...baseService,
      deployments: [{ status: "PRIMARY", taskDefinition: previous, rolloutState: "IN_PROGRESS" }],
    };
    const { ecs } = mockEcs(
      [
        {
          ...baseService,
          taskDefinition: attempted,
          deployments: [
            { status: "PRIMARY", taskDefinition: attempted, rolloutState: "IN_PROGRESS" },
            baseService.deployments[0],
          ],
        },
        failedRollout,
      ],
      rolledBack,
    );
    const reporter = memoryReporter();
    const outcome = await deployEcs({ env, digest: digest("e"), ecs, reporter, ...fast });
    expect(outcome.status).toBe("rolled_back");
    expect(outcome.reason).toContain("ECS deployment circuit breaker: tasks failed to start.");
    expect(outcome.revisions).toEqual({ previous, attempted, current: previous });
    expect(reporter.lines).toContain("  event: (service api) deployment failed: tasks failed to start.");
  });

  it("(mocked: moto cannot crash tasks) stops waiting once three new tasks failed instead of sitting out the timeout", async () => {
    const crashing = {
      ...baseService,
      taskDefinition: attempted,
      deployments: [
        { status: "PRIMARY", taskDefinition: attempted, rolloutState: "IN_PROGRESS", failedTasks: 3 },
      ],
    };
    const { ecs, mock } = mockEcs([crashing, crashing], baseService);
    const outcome = await deployEcs({
      env,
      digest: digest("e"),
      ecs,
      reporter: memoryReporter(),
      ...fast,
      timeoutSeconds: 1800,
    });
    expect(outcome.status).toBe("rolled_back");
    expect(outcome.reason).toContain("3 new tasks failed to start");
    expect(outcome.timings.totalMs).toBeLessThan(10_000);
    expect(mock.commandCalls(UpdateServiceCommand).at(-1)?.args[0].input.taskDefinition).toBe(previous);
  });
});

describe("deployEcs with expired credentials (aws-sdk-client-mock: moto accepts any credentials)", () => {
  it("fails before any mutating call with one line saying to assume the role again", async () => {
    const ecs = new ECSClient({ region: "eu-west-1" });
    const mock = mockClient(ecs);
    mock.on(DescribeServicesCommand).rejects(
      Object.assign(new Error("The security token included in the request is expired"), {
        name: "ExpiredTokenException",
      }),
    );
    await expect(deployEcs({ env, digest: digest("b"), ecs })).rejects.toThrow(
      "AWS credentials have expired (ExpiredTokenException): assume the deploy role again",
    );
    expect(mock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    expect(mock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });
});
