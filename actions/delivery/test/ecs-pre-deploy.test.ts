import { join } from "node:path";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { EnvironmentError } from "@content-engine/environments";
import { beforeEach, describe, expect, it } from "vitest";
import {
  awsFor,
  createEcsService,
  digest,
  testEnvironment,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { createClient } from "../src/aws.ts";
import { deployEcs, planEcs } from "../src/ecs.ts";
import { memoryReporter } from "../src/reporter.ts";
import { sleep } from "../src/retry.ts";
import type { Clock } from "../src/wait.ts";
import { registerRevisionLike } from "./support/ecs-revisions.ts";

// The rehearsal's moto (test/rehearsal/moto_server.py): its RunTask stops a task with the exit code a
// task definition's REHEARSAL_EXIT_CODE names, as the image would have exited; everything else is moto.
process.env.MOTO_SERVER = join(import.meta.dirname, "..", "..", "..", "test", "rehearsal", "moto-server");
const moto = useMoto();
beforeEach(() => moto.reset());

const migrate = { command: ["npm", "run", "migrate"], timeoutSeconds: 60 };
const env = testEnvironment([[["api", "preDeploy"], [migrate]]]);
const oldImage = `${env.image.repository}@${digest("a")}`;
const fast = { pollSeconds: 0.05, progressSeconds: 0, timeoutSeconds: 2 };
const LOG_GROUP = "/ecs/content-engine-dev/api";

/** The API service as terraform leaves it: Fargate in a subnet with a security group, logging to awslogs. */
async function createNetworkedService() {
  const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
  const ec2 = createClient(EC2Client, awsFor(moto.endpoint));
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
  // As terraform's VPC has it; moto's awsvpc RunTask needs the ENI's private DNS name.
  await ec2.send(
    new ModifyVpcAttributeCommand({ VpcId: vpc.Vpc!.VpcId!, EnableDnsHostnames: { Value: true } }),
  );
  const subnet = await ec2.send(
    new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: "10.0.1.0/24" }),
  );
  const group = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: "api", Description: "api", VpcId: vpc.Vpc!.VpcId! }),
  );
  // The revision terraform registers: the application container logs to CloudWatch Logs.
  const logged = await registerRevisionLike(ecs, taskDefinitionArn, ([api, ...rest]) => [
    {
      ...api!,
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": LOG_GROUP,
          "awslogs-stream-prefix": "api",
          "awslogs-region": "eu-west-1",
        },
      },
    },
    ...rest,
  ]);
  await ecs.send(
    new DeleteServiceCommand({ cluster: env.api.cluster, service: env.api.service, force: true }),
  );
  const networkConfiguration = {
    awsvpcConfiguration: {
      subnets: [subnet.Subnet!.SubnetId!],
      securityGroups: [group.GroupId!],
      assignPublicIp: "DISABLED" as const,
    },
  };
  await ecs.send(
    new CreateServiceCommand({
      cluster: env.api.cluster,
      serviceName: env.api.service,
      taskDefinition: logged,
      desiredCount: env.api.desiredCount,
      launchType: "FARGATE",
      networkConfiguration,
    }),
  );
  // moto reports the service's tasks running after an UpdateService (createEcsService's healthy service).
  await ecs.send(
    new UpdateServiceCommand({
      cluster: env.api.cluster,
      service: env.api.service,
      desiredCount: env.api.desiredCount,
    }),
  );
  return { ecs, serving: logged, networkConfiguration };
}

async function liveRevision(ecs: ECSClient) {
  const out = await ecs.send(
    new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }),
  );
  return out.services![0]!.taskDefinition;
}

async function oneOffTasks(ecs: ECSClient) {
  const listed = await ecs.send(
    new ListTasksCommand({ cluster: env.api.cluster, startedBy: "content-engine-pre-deploy" }),
  );
  if (!listed.taskArns?.length) return [];
  return (await ecs.send(new DescribeTasksCommand({ cluster: env.api.cluster, tasks: listed.taskArns })))
    .tasks!;
}

/** Registers the family's next revision with REHEARSAL_EXIT_CODE: the image exits with it at start. */
async function registerExitingRevision(ecs: ECSClient, serving: string, code: number) {
  await registerRevisionLike(ecs, serving, ([api, ...rest]) => [
    {
      ...api!,
      environment: [...(api!.environment ?? []), { name: "REHEARSAL_EXIT_CODE", value: String(code) }],
    },
    ...rest,
  ]);
}

describe("deployEcs pre-deploy tasks (api.preDeploy) against moto", () => {
  it("runs the new revision as a one-off task with the service's network configuration before the update, and reports its exit code and log tail", async () => {
    const { ecs, serving, networkConfiguration } = await createNetworkedService();
    const logs = createClient(CloudWatchLogsClient, awsFor(moto.endpoint));
    await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
    // What the migration writes while it runs: into its awslogs stream, api/api/<task id>.
    let written = false;
    const clock: Clock = {
      now: () => Date.now(),
      sleep: async (ms) => {
        const [task] = await oneOffTasks(ecs);
        if (task && !written) {
          written = true;
          const stream = `api/api/${task.taskArn!.split("/").pop()}`;
          await logs.send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName: stream }));
          await logs.send(
            new PutLogEventsCommand({
              logGroupName: LOG_GROUP,
              logStreamName: stream,
              logEvents: [
                { timestamp: Date.now(), message: "applying migration 0007_add_jobs_index" },
                { timestamp: Date.now() + 1, message: "migrations done" },
              ],
            }),
          );
        }
        await sleep(ms);
      },
    };
    const outcome = await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      clock,
      ...fast,
    });

    expect(outcome.status).toBe("succeeded");
    const [task] = await oneOffTasks(ecs);
    expect(task?.taskDefinitionArn).toBe(outcome.revisions.current);
    expect(task?.taskDefinitionArn).not.toBe(serving);
    expect(task?.overrides?.containerOverrides).toEqual([{ name: "api", command: migrate.command }]);
    expect(task?.launchType).toBe("FARGATE");
    expect(task?.lastStatus).toBe("STOPPED");
    const diagnostics = outcome.diagnostics.join("\n");
    expect(diagnostics).toMatch(/pre-deploy 1\/1 \(npm run migrate\): task \S+ exit 0/);
    expect(diagnostics).toContain("  | applying migration 0007_add_jobs_index\n  | migrations done");
    expect(networkConfiguration.awsvpcConfiguration.subnets).toHaveLength(1);
  });

  it("stops the deploy with the previous revision still serving when the pre-deploy task exits non-zero", async () => {
    const { ecs, serving } = await createNetworkedService();
    await registerExitingRevision(ecs, serving, 3);
    const outcome = await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });

    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toMatch(
      /^pre-deploy 1\/1 \(npm run migrate\) exited 3; the service was not updated: content-engine-dev-api:\d+ still serves$/,
    );
    expect(outcome.revisions.current).toBe(serving);
    expect(outcome.revisions.attempted).not.toBe(serving);
    expect(await liveRevision(ecs)).toBe(serving);
    expect(outcome.diagnostics.join("\n")).toMatch(
      /exit 3 \(Essential container in task exited\)\n {2}logs: \/ecs\/content-engine-dev\/api api\/api\/\S+ unreadable \(ResourceNotFoundException/,
    );
  });

  it("the same exiting revision without a pre-deploy task goes on to the service update", async () => {
    const { ecs, serving } = await createNetworkedService();
    await registerExitingRevision(ecs, serving, 3);
    const outcome = await deployEcs({
      env: testEnvironment(),
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(await oneOffTasks(ecs)).toEqual([]);
    expect(outcome.revisions.attempted).not.toBe(serving);
    expect(outcome.reason).not.toContain("pre-deploy");
  });

  it("stops the task and the deploy when the pre-deploy task outlives its timeoutSeconds", async () => {
    const { ecs, serving } = await createNetworkedService();
    // Each wait between two looks at the task takes a whole second of this clock.
    let now = 0;
    const clock: Clock = {
      now: () => now,
      sleep: async () => {
        now += 1000;
      },
    };
    const outcome = await deployEcs({
      env: testEnvironment([[["api", "preDeploy"], [{ command: ["sleep", "999"], timeoutSeconds: 1 }]]]),
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      clock,
      ...fast,
    });
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toMatch(
      /^pre-deploy 1\/1 \(sleep 999\) did not stop within 1s \(task \S+ stopped\); .* still serves$/,
    );
    expect(await liveRevision(ecs)).toBe(serving);
  });

  it("plans the pre-deploy task between registering and the service update", async () => {
    await createNetworkedService();
    const plan = await planEcs({ env, digest: digest("b"), aws: awsFor(moto.endpoint) });
    const steps = plan.steps.map((step) => step.split(" ")[0]);
    expect(steps).toEqual(["refuse", "RegisterTaskDefinition", "RunTask", "UpdateService", "wait"]);
    expect(plan.steps[2]).toBe(
      "RunTask content-engine-dev-api (pre-deploy 1/1: npm run migrate, timeout 60s): a non-zero exit stops the deploy before UpdateService",
    );
  });
});

describe("api.preDeploy in the environment file", () => {
  it.each([
    [[{ command: [] }], "environment: api.preDeploy.0.command: expected at least 1 items, got a list"],
    [[{ command: ["npm", ""] }], 'environment: api.preDeploy.0.command.1: expected >= 1 characters, got ""'],
    [
      [{ command: ["npm", "run", "migrate"], timeoutSeconds: -5 }],
      "environment: api.preDeploy.0.timeoutSeconds: expected > 0, got number -5",
    ],
    [
      [{ command: "npm run migrate" }],
      'environment: api.preDeploy.0.command: expected array, got "npm run migrate"',
    ],
  ])("refuses %j naming the field", (preDeploy, message) => {
    expect(() => testEnvironment([[["api", "preDeploy"], preDeploy]])).toThrow(EnvironmentError);
    expect(() => testEnvironment([[["api", "preDeploy"], preDeploy]])).toThrow(message);
  });

  it("defaults timeoutSeconds to 600 and the list to empty", () => {
    expect(testEnvironment([[["api", "preDeploy"], [{ command: ["true"] }]]]).api.preDeploy).toEqual([
      { command: ["true"], timeoutSeconds: 600 },
    ]);
    expect(testEnvironment().api.preDeploy).toEqual([]);
  });
});
