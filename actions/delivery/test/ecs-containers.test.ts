import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type ECSClient } from "@aws-sdk/client-ecs";
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

const moto = useMoto();
beforeEach(() => moto.reset());

const plain = testEnvironment();
const appImage = `${plain.image.repository}@${digest("a")}`;
const fluentBit = `public.ecr.aws/aws-observability/aws-for-fluent-bit@${digest("f")}`;
const env = testEnvironment([[["api", "containers"], { "log-router": { image: fluentBit } }]]);
const fast = { pollSeconds: 0.05, progressSeconds: 0, timeoutSeconds: 2 };

async function servingImages(ecs: ECSClient) {
  const service = (
    await ecs.send(new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }))
  ).services![0]!;
  const td = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }));
  return td.taskDefinition!.containerDefinitions!.map((c) => `${c.name} ${c.image}`);
}

describe("deployEcs images of other containers (api.containers) against moto", () => {
  it("rolls a sidecar to the digest the file names even when the application image is unchanged", async () => {
    const { ecs } = await createEcsService(moto.endpoint, env, appImage);
    const without = await deployEcs({
      env: plain,
      digest: digest("a"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(without.status).toBe("unchanged");

    const outcome = await deployEcs({
      env,
      digest: digest("a"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    expect(await servingImages(ecs)).toEqual([`api ${appImage}`, `log-router ${fluentBit}`]);
  });

  it("plans the sidecar's image as its own change", async () => {
    await createEcsService(moto.endpoint, env, appImage);
    const plan = await planEcs({ env, digest: digest("b"), aws: awsFor(moto.endpoint) });
    expect(plan.changes).toEqual([
      { field: "image", from: appImage, to: `${env.image.repository}@${digest("b")}` },
      {
        field: "image (log-router)",
        from: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
        to: fluentBit,
      },
    ]);
  });

  it("names the field when the task definition has no such container, changing nothing", async () => {
    const { ecs } = await createEcsService(moto.endpoint, env, appImage);
    const typo = testEnvironment([[["api", "containers"], { "log-routr": { image: fluentBit } }]]);
    await expect(
      deployEcs({ env: typo, digest: digest("b"), aws: awsFor(moto.endpoint), reporter: memoryReporter() }),
    ).rejects.toThrow(
      'api.containers.log-routr in dev.yaml: the task definition has no container "log-routr": expected one of api, log-router',
    );
    expect(await servingImages(ecs)).toEqual([
      `api ${appImage}`,
      "log-router public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
    ]);
  });

  it("refuses the application container in api.containers (its image is image.digest)", async () => {
    await createEcsService(moto.endpoint, env, appImage);
    const app = testEnvironment([[["api", "containers"], { api: { image: fluentBit } }]]);
    await expect(planEcs({ env: app, digest: digest("b"), aws: awsFor(moto.endpoint) })).rejects.toThrow(
      'api.containers.api in dev.yaml: "api" is the application container; its image is image.digest',
    );
  });
});

describe("api.containers in the environment file", () => {
  it.each([
    [
      { "log-router": { image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable" } },
      'environment: api.containers.log-router.image: expected an image by digest, <repository>@sha256:<64 hex> (a tag is refused: deploys are by digest), got "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"',
    ],
    [
      { "log-router": { image: `fluent-bit:3@${digest("f")}`, tag: "3" } },
      "environment: api.containers.log-router: expected no unknown fields (tag), got extra fields",
    ],
  ])("refuses %j naming the field", (containers, message) => {
    expect(() => testEnvironment([[["api", "containers"], containers]])).toThrow(message);
  });
});
