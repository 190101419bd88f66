import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  awsFor,
  createAlarm,
  createEcsService,
  digest,
  fireAlarm,
  testEnvironment,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { deployEcs, planEcs } from "../src/ecs.ts";
import { DeliveryError } from "../src/errors.ts";
import { memoryReporter } from "../src/reporter.ts";
import { sleep } from "../src/retry.ts";
import { registerRevisionLike } from "./support/ecs-revisions.ts";

const moto = useMoto();
beforeEach(() => moto.reset());

const env = testEnvironment();
const oldImage = `${env.image.repository}@${digest("a")}`;
const newImage = `${env.image.repository}@${digest("b")}`;
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
    // What terraform registers when modules/metrics gives the API task its collector sidecar; the
    // service keeps running the old revision (terraform ignores task_definition changes).
    const collector = {
      name: "metrics-collector",
      image: "quay.io/prometheus/prometheus:v2.53.4",
      essential: false,
      memory: 64,
    };
    await registerRevisionLike(ecs, taskDefinitionArn, (containers) => [...containers, collector]);
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
      'ECS cluster "content-engine-dev" does not exist (api.cluster in dev.yaml)',
    );
  });

  it("names the environment field when the service does not exist", async () => {
    await createEcsService(moto.endpoint, env, oldImage);
    const missing = testEnvironment([[["api", "service"], "no-such-service"]]);
    await expect(
      deployEcs({ env: missing, digest: digest("b"), aws: awsFor(moto.endpoint) }),
    ).rejects.toThrow(
      'ECS service "no-such-service" does not exist in cluster "content-engine-dev" (api.service in dev.yaml)',
    );
  });
});

/** What someone does in the console: puts the service back on an older revision. */
async function setRevisionByHand(ecs: ECSClient, taskDefinition: string) {
  await ecs.send(
    new UpdateServiceCommand({ cluster: env.api.cluster, service: env.api.service, taskDefinition }),
  );
}

async function registeredRevisions(ecs: ECSClient) {
  return (await ecs.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns ?? [];
}

const revision = (arn: string | undefined) => arn?.split("/").pop();

describe("deployEcs compares the file with the revision the service runs", () => {
  /** Service on :1 (digest a) after a deploy of digest b (:2) was set back to :1 by hand. */
  async function handRollback() {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    const deployed = await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(deployed.status).toBe("succeeded");
    await setRevisionByHand(ecs, taskDefinitionArn);
    return { ecs, first: taskDefinitionArn, second: deployed.revisions.current! };
  }

  it("moves a service set back by hand to the file's digest again and names the drift", async () => {
    const { ecs, first, second } = await handRollback();
    const reporter = memoryReporter();
    const outcome = await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter,
      ...fast,
    });

    const drift = `drift: ${env.api.cluster}/${env.api.service} ran ${revision(first)} (${oldImage}), not the file's ${newImage}`;
    expect(outcome.status).toBe("succeeded");
    expect(outcome.reason).toBe(`${env.api.cluster}/${env.api.service} runs ${newImage}; ${drift}`);
    expect(outcome.diagnostics).toEqual([drift]);
    expect(reporter.lines).toContain(`warning: ${drift}`);
    // :2 already is the file's task definition: the service goes back to it, nothing new is registered.
    expect(outcome.revisions).toEqual({ previous: first, attempted: second, current: second });
    expect((await liveService(ecs)).taskDefinition).toBe(second);
    expect(await registeredRevisions(ecs)).toHaveLength(2);
  });

  it("plans the image change of a hand rollback", async () => {
    const { ecs, first, second } = await handRollback();
    const plan = await planEcs({ env, digest: digest("b"), aws: awsFor(moto.endpoint) });

    expect(plan.noop).toBe(false);
    expect(plan.changes).toEqual([{ field: "image", from: oldImage, to: newImage }]);
    expect(plan.steps).toContain(`reuse ${revision(second)} (already registered with this content)`);
    expect(plan.details[0]).toBe(
      `drift: ${env.api.cluster}/${env.api.service} ran ${revision(first)} (${oldImage}), not the file's ${newImage}`,
    );
    expect((await liveService(ecs)).taskDefinition).toBe(first);
  });

  it("carries a revision terraform registered to the service even when the digest did not change", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    const running = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn })))
      .taskDefinition!;
    const collector = {
      name: "metrics-collector",
      image: "quay.io/prometheus/prometheus:v2.53.4",
      memory: 64,
    };
    const terraform = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: running.family!,
        cpu: running.cpu,
        memory: running.memory,
        networkMode: running.networkMode,
        requiresCompatibilities: running.requiresCompatibilities,
        executionRoleArn: running.executionRoleArn,
        containerDefinitions: [...running.containerDefinitions!, { ...collector, essential: false }],
        tags: [{ key: "owner", value: "platform" }],
      }),
    );
    const newest = terraform.taskDefinition!.taskDefinitionArn!;
    const options = { env, digest: digest("a"), aws: awsFor(moto.endpoint), reporter: memoryReporter() };

    const plan = await planEcs(options);
    expect(plan.changes).toEqual([
      {
        field: "task definition",
        from: revision(taskDefinitionArn),
        to: `${revision(newest)} (newest): containerDefinitions differ`,
      },
    ]);
    const outcome = await deployEcs({ ...options, ...fast });
    expect(outcome.status).toBe("succeeded");
    expect(outcome.diagnostics).toEqual([]);
    expect((await liveService(ecs)).taskDefinition).toBe(newest);
    expect(await registeredRevisions(ecs)).toHaveLength(2);
  });

  it("leaves a service alone that runs the file's digest while a newer revision with another image was registered by hand", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    // Same shape, another image: rendering from this newest revision with the file's digest gives :1 back.
    await registerRevisionLike(ecs, taskDefinitionArn, (containers) =>
      containers.map((c) =>
        c.name === "api" ? { ...c, image: `${env.image.repository}@${digest("f")}` } : c,
      ),
    );
    const options = { env, digest: digest("a"), aws: awsFor(moto.endpoint), reporter: memoryReporter() };

    expect((await planEcs(options)).noop).toBe(true);
    const outcome = await deployEcs({ ...options, ...fast });
    expect(outcome.status).toBe("unchanged");
    expect(outcome.reason).toBe(`${oldImage} already serves ${env.api.cluster}/${env.api.service}`);
    expect((await liveService(ecs)).taskDefinition).toBe(taskDefinitionArn);
    expect(await registeredRevisions(ecs)).toHaveLength(2);
  });
});

describe("deployEcs force-new-deployment", () => {
  it("starts a new deployment of the running revision when nothing changed; without it the same call is unchanged", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    const options = { env, digest: digest("a"), aws: awsFor(moto.endpoint), ...fast };
    const before = (await liveService(ecs)).deployments![0]!.id;

    const plain = await deployEcs({ ...options, reporter: memoryReporter() });
    expect(plain.status).toBe("unchanged");
    expect((await liveService(ecs)).deployments![0]!.id).toBe(before);

    const reporter = memoryReporter();
    const forced = await deployEcs({ ...options, forceNewDeployment: true, reporter });
    expect(forced.status).toBe("succeeded");
    expect(forced.reason).toBe(
      `forced a new deployment: ${env.api.cluster}/${env.api.service} runs ${oldImage} on fresh tasks of ${revision(taskDefinitionArn)}`,
    );
    expect(forced.revisions).toEqual({
      previous: taskDefinitionArn,
      attempted: taskDefinitionArn,
      current: taskDefinitionArn,
    });
    const service = await liveService(ecs);
    expect(service.deployments?.map((d) => d.id)).not.toContain(before);
    expect(service.taskDefinition).toBe(taskDefinitionArn);
    expect(service.deploymentConfiguration?.deploymentCircuitBreaker).toEqual({
      enable: true,
      rollback: true,
    });
    expect(service.deploymentConfiguration?.alarms?.alarmNames).toEqual(env.alarms.deploymentAlarms);
    expect(await registeredRevisions(ecs)).toHaveLength(1);

    const plan = await planEcs({ ...options, forceNewDeployment: true });
    expect(plan.noop).toBe(false);
    expect(plan.changes).toEqual([]);
    expect(plan.steps.some((step) => /UpdateService .* with forceNewDeployment/.test(step))).toBe(true);
  });
});

describe("deployEcs gates before the rollout", () => {
  const frozen = testEnvironment([
    [
      ["promotion", "freezeWindows"],
      [{ start: "2030-12-20T00:00:00Z", end: "2031-01-02T00:00:00Z", reason: "year-end" }],
    ],
  ]);
  /** A clock that starts inside the freeze window and runs. */
  const insideFreeze = () => {
    const offset = Date.parse("2030-12-24T12:00:00Z") - Date.now();
    return { now: () => Date.now() + offset, sleep };
  };
  const refusal =
    "refused: dev is frozen: year-end (2030-12-20T00:00:00Z to 2031-01-02T00:00:00Z) (set break-glass to override)";

  it("refuses to start the rollout while a deployment alarm is in ALARM, registering nothing", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    for (const name of env.alarms.deploymentAlarms) await createAlarm(moto.endpoint, name);
    const firing = env.alarms.deploymentAlarms[1]!;
    await fireAlarm(moto.endpoint, firing);
    const outcome = await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });

    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe(
      `refused to start the rollout: ${firing} is already in ALARM; nothing was changed (a break-glass reason lets a fix go out)`,
    );
    expect(await registeredRevisions(ecs)).toEqual([taskDefinitionArn]);
    expect((await liveService(ecs)).taskDefinition).toBe(taskDefinitionArn);
  });

  it("lets a fix go out through firing alarms with a break-glass reason, judged by the circuit breaker only", async () => {
    const { ecs } = await createEcsService(moto.endpoint, env, oldImage);
    const firing = env.alarms.deploymentAlarms[1]!;
    await fireAlarm(moto.endpoint, firing);
    const reporter = memoryReporter();
    const outcome = await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter,
      breakGlass: "fix for INC-42",
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    const line = `break-glass: fix for INC-42 (deployment alarms already in ALARM: ${firing}; the rollout is judged by the circuit breaker only)`;
    expect(outcome.diagnostics).toContain(line);
    expect(reporter.lines).toContainEqual(expect.stringContaining(line));
    const service = await liveService(ecs);
    expect(service.deploymentConfiguration?.alarms?.enable).toBe(false);
    expect(service.deploymentConfiguration?.deploymentCircuitBreaker).toEqual({
      enable: true,
      rollback: true,
    });
  });

  it("refuses inside a freeze window without a break-glass reason, registering nothing", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    const outcome = await deployEcs({
      env: frozen,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      clock: insideFreeze(),
      breakGlass: "  ",
      ...fast,
    });

    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe(refusal);
    expect(await registeredRevisions(ecs)).toEqual([taskDefinitionArn]);
    expect((await liveService(ecs)).taskDefinition).toBe(taskDefinitionArn);
  });

  it("deploys inside a freeze window with a break-glass reason and records the override", async () => {
    const { ecs } = await createEcsService(moto.endpoint, env, oldImage);
    const reporter = memoryReporter();
    const outcome = await deployEcs({
      env: frozen,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter,
      clock: insideFreeze(),
      breakGlass: "hotfix for INC-42",
      ...fast,
    });

    const line = 'break-glass: hotfix for INC-42 (freeze window "year-end" overridden)';
    expect(outcome.status).toBe("succeeded");
    expect(outcome.diagnostics).toEqual([line]);
    expect(reporter.lines).toContain(`warning: ${line}`);
    expect((await liveService(ecs)).taskDefinition).toBe(outcome.revisions.current);
  });

  it("deploys outside the freeze window without a break-glass reason, recording nothing", async () => {
    await createEcsService(moto.endpoint, env, oldImage);
    const outcome = await deployEcs({
      env: frozen,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      breakGlass: "not needed",
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    expect(outcome.diagnostics).toEqual([]);
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

  // No alarm fires: the gate before the rollout reads CloudWatch too.
  const cloudwatch = new CloudWatchClient({ region: "eu-west-1" });
  mockClient(cloudwatch).on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });

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
    const outcome = await deployEcs({ env, digest: digest("e"), ecs, cloudwatch, reporter, ...fast });
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
      cloudwatch,
      reporter: memoryReporter(),
      ...fast,
      timeoutSeconds: 1800,
    });
    expect(outcome.status).toBe("rolled_back");
    expect(outcome.reason).toContain("3 new tasks failed to start");
    expect(outcome.timings.totalMs).toBeLessThan(10_000);
    expect(mock.commandCalls(UpdateServiceCommand).at(-1)?.args[0].input.taskDefinition).toBe(previous);
  });

  it("(mocked: moto keeps a single deployment) waits for the forced deployment, not the finished one of the same revision", async () => {
    const finished = {
      id: "ecs-svc/old",
      status: "ACTIVE",
      taskDefinition: previous,
      rolloutState: "COMPLETED" as const,
    };
    const forced = {
      id: "ecs-svc/new",
      status: "PRIMARY",
      taskDefinition: previous,
      rolloutState: "IN_PROGRESS" as const,
    };
    const rolling = { ...baseService, deployments: [finished, forced] };
    const { ecs, mock } = mockEcs([rolling, rolling], {
      ...baseService,
      deployments: [{ ...forced, rolloutState: "COMPLETED" }],
    });
    mock.on(UpdateServiceCommand).resolves({ service: rolling });
    const outcome = await deployEcs({
      env,
      digest: digest("a"),
      ecs,
      cloudwatch,
      forceNewDeployment: true,
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    expect(outcome.reason).toMatch(/^forced a new deployment: /);
    // One read, then polls until the forced deployment (by its id) completed, then one for the revision cleanup.
    expect(mock.commandCalls(DescribeServicesCommand)).toHaveLength(5);
    expect(mock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    expect(mock.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toMatchObject({
      taskDefinition: previous,
      forceNewDeployment: true,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    });
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
