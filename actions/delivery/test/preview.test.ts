import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import {
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  ListEventSourceMappingsCommand,
  ListTagsCommand,
} from "@aws-sdk/client-lambda";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { GetQueueUrlCommand, ListQueueTagsCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  type Environment,
  EnvironmentError,
  PREVIEW_CREATED_AT_TAG,
  PREVIEW_PULL_REQUEST_TAG,
  PREVIEW_TAG,
  previewNames,
} from "@content-engine/environments";
import { beforeEach, describe, expect, it } from "vitest";
import { awsFor, digest, testEnvironment, workerZip } from "../../../test/support/delivery-fixtures.ts";
import { MOTO_CREDENTIALS, MOTO_REGION, useMoto } from "../../../test/support/moto.ts";
import { baseWorld } from "../../preview/test/preview-world.ts";
import { createClient } from "../src/aws.ts";
import { downPreview, listPreviews, reapPreviews, upPreview, verifyGone } from "../src/preview.ts";
import { memoryReporter } from "../src/reporter.ts";

// moto starts no tasks: a service it creates reports its desired count running (ECS would, once healthy).
const moto = useMoto({ env: { MOTO_ECS_SERVICE_RUNNING: "1" } });
beforeEach(() => moto.reset());

const base: Environment = testEnvironment();
const zipV1 = workerZip("export const handler = async () => 'pr v1';");
const zipV2 = workerZip("export const handler = async () => 'pr v2';");
const fast = { pollSeconds: 0.05, timeoutSeconds: 20 };

function options(number: number, extra: Record<string, unknown> = {}) {
  return {
    base,
    number,
    aws: awsFor(moto.endpoint),
    reporter: memoryReporter(),
    ...fast,
    ...extra,
  };
}

const up = (number: number, image = digest("a"), zip = zipV1, extra: Record<string, unknown> = {}) =>
  upPreview({ ...options(number, extra), digest: image, tag: `pr-${number}`, zipFile: zip });

const tagsOf = (list: Array<{ key?: string; value?: string; Key?: string; Value?: string }> = []) =>
  Object.fromEntries(list.map((t) => [t.key ?? t.Key, t.value ?? t.Value]));

describe("upPreview against moto", () => {
  it("creates the queues, target group, host rule, task definition, service, function and mapping, all tagged", async () => {
    const world = await baseWorld(moto.endpoint, base);
    const names = previewNames(base, 7);
    const outcome = await up(7);
    expect(outcome.status, outcome.reason).toBe("succeeded");
    expect(outcome.outputs.url).toBe(`https://pr-7.${base.previews!.domain}`);
    expect(outcome.outputs.environment).toBe("pr-7");
    const createdAt = outcome.outputs["created-at"]!;
    const expected = {
      [PREVIEW_TAG]: "pr-7",
      [PREVIEW_PULL_REQUEST_TAG]: "7",
      [PREVIEW_CREATED_AT_TAG]: createdAt,
    };

    const service = (
      await world.ecs.send(
        new DescribeServicesCommand({
          cluster: base.api.cluster,
          services: [names.service],
          include: ["TAGS"],
        }),
      )
    ).services![0]!;
    expect(service.status).toBe("ACTIVE");
    expect(tagsOf(service.tags)).toMatchObject(expected);
    const td = await world.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition, include: ["TAGS"] }),
    );
    expect(td.taskDefinition!.family).toBe(names.taskFamily);
    const app = td.taskDefinition!.containerDefinitions!.find((c) => c.name === "api")!;
    expect(app.image).toBe(`${base.image.repository}@${digest("a")}`);
    const variables = Object.fromEntries(app.environment!.map((v) => [v.name, v.value]));
    expect(variables.CONTENT_ENGINE_KEY_PREFIX).toBe("previews/pr-7/");
    expect(variables.CONTENT_ENGINE_QUEUE_URL).toMatch(/content-engine-pr-7-jobs$/);
    expect(variables.CONTENT_ENGINE_DLQ_URL).toMatch(/content-engine-pr-7-jobs-dlq$/);
    expect(tagsOf(td.tags)).toMatchObject(expected);

    const tg = (await world.elb.send(new DescribeTargetGroupsCommand({ Names: [names.targetGroup] })))
      .TargetGroups![0]!;
    expect(tg.HealthCheckPath).toBe("/healthz");
    const rules = (
      await world.elb.send(new DescribeRulesCommand({ ListenerArn: await listenerArn(world.elb) }))
    ).Rules!.filter((r) => !r.IsDefault);
    expect(rules).toHaveLength(1);
    const hosts = rules[0]!.Conditions!.flatMap((c) => c.HostHeaderConfig?.Values ?? c.Values ?? []);
    expect(hosts).toEqual([`pr-7.${base.previews!.domain}`]);
    expect(rules[0]!.Actions![0]!.TargetGroupArn).toBe(tg.TargetGroupArn);
    const elbTags = await world.elb.send(
      new DescribeTagsCommand({ ResourceArns: [tg.TargetGroupArn!, rules[0]!.RuleArn!] }),
    );
    for (const description of elbTags.TagDescriptions!)
      expect(tagsOf(description.Tags)).toMatchObject(expected);

    const fn = await world.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: names.functionName }),
    );
    expect(fn.Environment!.Variables).toMatchObject({
      CONTENT_ENGINE_KEY_PREFIX: "previews/pr-7/",
      CONTENT_ENGINE_QUEUE_URL: variables.CONTENT_ENGINE_QUEUE_URL,
    });
    expect((await world.lambda.send(new ListTagsCommand({ Resource: fn.FunctionArn }))).Tags).toMatchObject(
      expected,
    );
    const alias = await world.lambda.send(
      new GetAliasCommand({ FunctionName: names.functionName, Name: "live" }),
    );
    expect(alias.FunctionVersion).toBe("1");
    // Mapped by the alias's ARN, as terraform maps the base's queue.
    const mappings = await world.lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: alias.AliasArn }),
    );
    expect(mappings.EventSourceMappings).toHaveLength(1);
    expect(mappings.EventSourceMappings![0]!.EventSourceArn).toMatch(/content-engine-pr-7-jobs$/);

    for (const queue of [names.queue, names.dlq]) {
      const url = (await world.sqs.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl;
      expect((await world.sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags).toMatchObject(
        expected,
      );
    }
    expect(await listPreviews(base, { aws: awsFor(moto.endpoint) })).toEqual([
      { number: 7, name: "pr-7", createdAt, url: `https://pr-7.${base.previews!.domain}` },
    ]);
  });

  it("a second up (new digest) updates the service and the function and keeps created-at", async () => {
    const world = await baseWorld(moto.endpoint, base);
    const names = previewNames(base, 8);
    const first = await up(8, digest("a"), zipV1);
    expect(first.status, first.reason).toBe("succeeded");
    const second = await up(8, digest("b"), zipV2, {
      clock: {
        now: () => Date.parse("2030-01-01T00:00:00Z"),
        sleep: (ms: number) => new Promise((r) => setTimeout(r, ms)),
      },
    });
    expect(second.status, second.reason).toBe("succeeded");
    expect(second.outputs["created-at"]).toBe(first.outputs["created-at"]);
    const service = (
      await world.ecs.send(
        new DescribeServicesCommand({
          cluster: base.api.cluster,
          services: [names.service],
          include: ["TAGS"],
        }),
      )
    ).services![0]!;
    expect(service.taskDefinition).toMatch(new RegExp(`${names.taskFamily}:2$`));
    expect(tagsOf(service.tags)[PREVIEW_CREATED_AT_TAG]).toBe(first.outputs["created-at"]);
    const alias = await world.lambda.send(
      new GetAliasCommand({ FunctionName: names.functionName, Name: "live" }),
    );
    expect(alias.FunctionVersion).toBe("2");
    const mappings = await world.lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: alias.AliasArn }),
    );
    expect(mappings.EventSourceMappings).toHaveLength(1);
  });
});

async function listenerArn(elb: ElasticLoadBalancingV2Client) {
  const { DescribeLoadBalancersCommand, DescribeListenersCommand } = await import(
    "@aws-sdk/client-elastic-load-balancing-v2"
  );
  const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: [base.api.loadBalancer] })))
    .LoadBalancers![0]!;
  return (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn })))
    .Listeners![0]!.ListenerArn!;
}

describe("downPreview against moto", () => {
  it("removes everything, verifyGone passes, and a second down changes nothing", async () => {
    const world = await baseWorld(moto.endpoint, base);
    const names = previewNames(base, 9);
    expect((await up(9)).status).toBe("succeeded");
    await world.s3.send(
      new PutObjectCommand({ Bucket: base.bucket, Key: `${names.bucketPrefix}uploads/a.json`, Body: "{}" }),
    );
    await world.s3.send(
      new PutObjectCommand({ Bucket: base.bucket, Key: "uploads/dev-keeps-this.json", Body: "{}" }),
    );
    const down = await downPreview(options(9));
    expect(down.status, down.reason).toBe("succeeded");
    expect(down.reason).toContain("nothing tagged content-engine:preview=pr-9 is left");
    expect(await verifyGone(base, 9, { aws: awsFor(moto.endpoint) })).toEqual([]);
    expect(await listPreviews(base, { aws: awsFor(moto.endpoint) })).toEqual([]);
    // The base is untouched.
    const dev = (
      await world.ecs.send(
        new DescribeServicesCommand({ cluster: base.api.cluster, services: [base.api.service] }),
      )
    ).services![0]!;
    expect(dev.status).toBe("ACTIVE");
    const { HeadObjectCommand } = await import("@aws-sdk/client-s3");
    await world.s3.send(new HeadObjectCommand({ Bucket: base.bucket, Key: "uploads/dev-keeps-this.json" }));
    const again = await downPreview(options(9));
    expect(again.status, again.reason).toBe("unchanged");
  });

  it("finishes a preview that only half exists (queues only)", async () => {
    await baseWorld(moto.endpoint, base);
    const { ensureQueues } = await import("../src/preview-resources.ts");
    const sqs = createClient(SQSClient, awsFor(moto.endpoint));
    await ensureQueues(sqs, previewNames(base, 10), previewNames(base, 10).tags);
    const down = await downPreview(options(10));
    expect(down.status, down.reason).toBe("succeeded");
    expect(down.diagnostics).toEqual([
      "deleted queue content-engine-pr-10-jobs",
      "deleted queue content-engine-pr-10-jobs-dlq",
    ]);
  });

  it("fails naming the Lambda function a down left behind", async () => {
    await baseWorld(moto.endpoint, base);
    expect((await up(11)).status).toBe("succeeded");
    const down = await downPreview({ ...options(11), skip: ["worker"] });
    expect(down.status).toBe("failed");
    expect(down.reason).toContain(`Lambda function ${previewNames(base, 11).functionName}`);
    expect(await verifyGone(base, 11, { aws: awsFor(moto.endpoint) })).toEqual([
      `Lambda function ${previewNames(base, 11).functionName}`,
      expect.stringMatching(/^event source mappings /),
    ]);
    expect((await downPreview(options(11))).status).toBe("succeeded");
  });
});

describe("reapPreviews against moto", () => {
  const at = (iso: string) => ({
    clock: { now: () => Date.parse(iso), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) },
  });

  it("destroys previews older than maxAgeHours, with the reason for the comment", async () => {
    await baseWorld(moto.endpoint, base);
    expect((await up(1, digest("a"), zipV1, at("2030-01-01T00:00:00Z"))).status).toBe("succeeded");
    expect((await up(2, digest("a"), zipV1, at("2030-01-03T12:00:00Z"))).status).toBe("succeeded");
    const reaped = await reapPreviews({
      base,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
      now: new Date("2030-01-04T01:00:00Z"),
      maxAgeHours: 72,
    });
    expect(reaped.map((r) => [r.name, r.why, r.reason, r.outcome.status])).toEqual([
      [
        "pr-1",
        "age",
        "preview pr-1 was removed: older than 72 h (created 2030-01-01T00:00:00.000Z)",
        "succeeded",
      ],
    ]);
    expect((await listPreviews(base, { aws: awsFor(moto.endpoint) })).map((p) => p.name)).toEqual(["pr-2"]);
  });

  it("makes room for a new preview by destroying the oldest over maxCount, never the one kept", async () => {
    await baseWorld(moto.endpoint, base);
    for (const [n, when] of [
      [3, "2030-01-01T00:00:00Z"],
      [4, "2030-01-01T01:00:00Z"],
    ] as const)
      expect((await up(n, digest("a"), zipV1, at(when))).status).toBe("succeeded");
    const reaped = await reapPreviews({
      base,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
      now: new Date("2030-01-01T02:00:00Z"),
      maxCount: 2,
      keep: 12,
    });
    expect(reaped.map((r) => [r.name, r.why, r.reason])).toEqual([
      ["pr-3", "count", "preview pr-3 was removed: the oldest of 2, pr-12 needed the room"],
    ]);
    // An update of an existing preview needs no room.
    const none = await reapPreviews({
      base,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
      now: new Date("2030-01-01T02:00:00Z"),
      maxCount: 1,
      keep: 4,
    });
    expect(none).toEqual([]);
  });
});

describe("bad input", () => {
  it.each([0, -1, "abc", 1e9, 2.5])("refuses pull request number %s before any call", async (value) => {
    const aws = { region: MOTO_REGION, endpoint: "http://127.0.0.1:9", credentials: MOTO_CREDENTIALS };
    await expect(upPreview({ base, number: value as number, digest: digest("a"), aws })).rejects.toThrow(
      EnvironmentError,
    );
    await expect(downPreview({ base, number: value as number, aws })).rejects.toThrow(
      /pull request number .*: expected a whole number from 1 to 99999999/,
    );
  });

  it("refuses a tag instead of a digest, and a base without a previews block", async () => {
    const aws = { region: MOTO_REGION, endpoint: "http://127.0.0.1:9", credentials: MOTO_CREDENTIALS };
    await expect(upPreview({ base, number: 3, digest: "latest", aws })).rejects.toThrow(
      /not an image digest/,
    );
    const { previews: _, ...without } = base;
    await expect(upPreview({ base: without, number: 3, digest: digest("a"), aws })).rejects.toThrow(
      /has no previews block/,
    );
  });
});
