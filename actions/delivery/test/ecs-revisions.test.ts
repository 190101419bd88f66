import { type ECSClient, ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { beforeEach, describe, expect, it } from "vitest";
import {
  awsFor,
  createEcsService,
  digest,
  testEnvironment,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { deployEcs, planEcs } from "../src/ecs.ts";
import { staleRevisions } from "../src/ecs-revisions.ts";
import { memoryReporter } from "../src/reporter.ts";
import { registerRevisionLike } from "./support/ecs-revisions.ts";

const moto = useMoto();
beforeEach(() => moto.reset());

const env = testEnvironment();
const oldImage = `${env.image.repository}@${digest("a")}`;
const fast = { pollSeconds: 0.05, progressSeconds: 0, timeoutSeconds: 2 };

/** Registers `count` more revisions of the serving one's family (earlier deploys that are done with). */
async function registerRevisions(ecs: ECSClient, from: string, count: number) {
  for (let i = 0; i < count; i++) await registerRevisionLike(ecs, from);
}

async function activeRevisions(ecs: ECSClient) {
  const listed = await ecs.send(new ListTaskDefinitionsCommand({ status: "ACTIVE" }));
  return (listed.taskDefinitionArns ?? []).map((arn) => Number(arn.split(":").pop())).sort((a, b) => a - b);
}

describe("deployEcs revision cleanup (api.keepRevisions) against moto", () => {
  it("keeps the newest unused revisions and deregisters older ones, never the previous one (the rollback target)", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    await registerRevisions(ecs, taskDefinitionArn, 5); // :2 … :6, unused
    const outcome = await deployEcs({
      env: testEnvironment([[["api", "keepRevisions"], 2]]),
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });

    expect(outcome.status).toBe("succeeded");
    expect(outcome.revisions.current).toMatch(/:7$/);
    // :1 served before (the rollback target), :7 serves, :5 and :6 are the newest two unused.
    expect(await activeRevisions(ecs)).toEqual([1, 5, 6, 7]);
    expect(outcome.diagnostics).toContain(
      "deregistered old revisions: content-engine-dev-api:2, content-engine-dev-api:3, content-engine-dev-api:4",
    );
  });

  it("the keep-revisions option overrides the file, and the default of 10 deregisters nothing here", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    await registerRevisions(ecs, taskDefinitionArn, 5);
    await deployEcs({
      env,
      digest: digest("b"),
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(await activeRevisions(ecs)).toEqual([1, 2, 3, 4, 5, 6, 7]);

    await deployEcs({
      env,
      digest: digest("c"),
      keepRevisions: 0,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    // :8 serves, :7 is the rollback target; moto's first deployment still names :1.
    expect(await activeRevisions(ecs)).toEqual([1, 7, 8]);
  });

  it("never deregisters a revision an ECS deployment references, nor one newer than the serving one", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    await registerRevisions(ecs, taskDefinitionArn, 5);
    const arn = (n: number) => taskDefinitionArn.replace(/:1$/, `:${n}`);
    const stale = await staleRevisions(ecs, {
      serving: arn(5),
      previous: arn(4),
      service: { deployments: [{ taskDefinition: arn(2), status: "ACTIVE" }] },
      keep: 0,
    });
    expect(stale).toEqual([arn(1), arn(3)]);
  });

  it("plans the deregistration without deregistering anything", async () => {
    const { ecs, taskDefinitionArn } = await createEcsService(moto.endpoint, env, oldImage);
    await registerRevisions(ecs, taskDefinitionArn, 3);
    // :1 serves and becomes the rollback target, :5 will serve; of the unused :2 … :4 the newest stays.
    const plan = await planEcs({
      env,
      digest: digest("b"),
      keepRevisions: 1,
      aws: awsFor(moto.endpoint),
    });
    expect(plan.steps.at(-1)).toBe(
      "DeregisterTaskDefinition content-engine-dev-api:2, content-engine-dev-api:3 (keep the newest 1 unused, the serving and the previous revision)",
    );
    expect(await activeRevisions(ecs)).toEqual([1, 2, 3, 4]);
  });
});

describe("api.keepRevisions in the environment file", () => {
  it("refuses a negative count naming the field", () => {
    expect(() => testEnvironment([[["api", "keepRevisions"], -1]])).toThrow(
      "environment: api.keepRevisions: expected >= 0, got number -1",
    );
  });
});
