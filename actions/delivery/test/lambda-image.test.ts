import { GetAliasCommand, GetFunctionCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { PROMOTABLE_FIELDS } from "@content-engine/environments";
import { beforeEach, describe, expect, it } from "vitest";
import {
  awsFor,
  createWorkerFunction,
  digest,
  testEnvironment,
  workerZip,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { deployLambda, planLambda, withWorkerImage } from "../src/lambda.ts";
import { memoryReporter } from "../src/reporter.ts";

const moto = useMoto();
beforeEach(() => moto.reset());

const env = testEnvironment([
  [["worker", "package"], "image"],
  [["worker", "image"], digest("b")],
]);
const uri = (hex: string) => `${env.image.repository}@${digest(hex)}`;
const fast = { pollSeconds: 0.05, progressSeconds: 0 };

/** An Image function serving `image` behind the alias, as terraform would create it. */
async function createImageFunction(image: string) {
  return (await createWorkerFunction(moto.endpoint, env, { imageUri: image })).lambda;
}

async function servedImage(lambda: LambdaClient) {
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: env.worker.functionName, Name: env.worker.alias }),
  );
  const fn = await lambda.send(
    new GetFunctionCommand({ FunctionName: env.worker.functionName, Qualifier: alias.FunctionVersion }),
  );
  return { version: alias.FunctionVersion, image: fn.Code?.ImageUri };
}

describe("worker.package: image (container-image function, against moto)", () => {
  it("names worker.image when package image has no digest, and promotion moves worker.image", () => {
    expect(() => testEnvironment([[["worker", "package"], "image"]])).toThrow(
      "worker.image: expected a worker image digest sha256:<64 hex characters> with package: image, got nothing",
    );
    expect(() => testEnvironment([[["worker", "package"], "jar"]])).toThrow(
      'worker.package: expected one of zip | image, got "jar"',
    );
    expect(PROMOTABLE_FIELDS).toContainEqual(["worker", "image"]);
  });

  it("plans UpdateFunctionCode with the image by digest", async () => {
    await createImageFunction(uri("a"));
    const plan = await planLambda({ env, aws: awsFor(moto.endpoint), canary: false });
    expect(plan.changes).toEqual([{ field: "image", from: uri("a"), to: uri("b") }]);
    expect(plan.steps).toEqual([
      `UpdateFunctionCode (ImageUri ${uri("b")})`,
      "PublishVersion",
      "UpdateAlias live -> new version",
    ]);
  });

  it("runs worker.image by digest from the API's repository behind a new version of the alias", async () => {
    const lambda = await createImageFunction(uri("a"));
    const outcome = await deployLambda({
      env,
      aws: awsFor(moto.endpoint),
      canary: false,
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    expect(outcome.outputs).toEqual({ version: "2", "image-uri": uri("b") });
    expect(await servedImage(lambda)).toEqual({ version: "2", image: uri("b") });

    const again = await deployLambda({
      env,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(again.status).toBe("unchanged");
  });

  it("deploys another image digest given for the run (worker-image, --worker-image)", async () => {
    const lambda = await createImageFunction(uri("a"));
    const outcome = await deployLambda({
      env: withWorkerImage(env, digest("c")),
      aws: awsFor(moto.endpoint),
      canary: false,
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    expect((await servedImage(lambda)).image).toBe(uri("c"));
    expect(() => withWorkerImage(testEnvironment(), digest("c"))).toThrow(
      "a worker image was given, but worker.package in dev.yaml is zip: set package: image (and worker.image) for a container-image function",
    );
  });

  it("refuses, naming worker.package, when the function was created as a zip", async () => {
    await createWorkerFunction(moto.endpoint, env, workerZip("v1"));
    await expect(deployLambda({ env, aws: awsFor(moto.endpoint), ...fast })).rejects.toThrow(
      'worker.package in dev.yaml is image, but Lambda function "content-engine-worker-dev" is a Zip package; Lambda cannot change that on a deploy: recreate the function (terraform) or set worker.package to zip',
    );
  });
});
