// Provisioned concurrency on the worker alias. moto 5.2 has no route for it: PUT and GET
// /2019-09-30/functions/{name}/provisioned-concurrency answer moto's HTML 404. So everything else runs
// against moto, and only PutProvisionedConcurrencyConfig / GetProvisionedConcurrencyConfig are answered
// by aws-sdk-client-mock on the same client (every other command calls through to moto).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetAliasCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  PutProvisionedConcurrencyConfigCommand,
  type PutProvisionedConcurrencyConfigCommandInput,
} from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  awsFor,
  createWorkerFunction,
  testEnvironment,
  workerZip,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { createClient } from "../src/aws.ts";
import { deployLambda, planLambda } from "../src/lambda.ts";
import { memoryReporter } from "../src/reporter.ts";

const moto = useMoto();
beforeEach(() => moto.reset());

const env = testEnvironment([[["worker", "provisionedConcurrency"], 3]]);
const scratch = mkdtempSync(join(tmpdir(), "deploy-lambda-provisioned-"));
const oldZip = workerZip("export const handler = async () => 'v1';");
const newZip = workerZip("export const handler = async () => 'v2';");
const newZipFile = join(scratch, "lambda.zip");
writeFileSync(newZipFile, newZip);
const fast = { pollSeconds: 0.05, progressSeconds: 0 };

/**
 * A Lambda client on moto whose provisioned-concurrency calls behave like Lambda's: none until a Put,
 * then IN_PROGRESS for `pending` reads, then `final`. Records the alias version each Put found.
 */
function lambdaWithProvisioning(
  pending = 2,
  final: { Status: "READY" | "FAILED"; StatusReason?: string } = { Status: "READY" },
) {
  const lambda = createClient(LambdaClient, awsFor(moto.endpoint));
  const reader = createClient(LambdaClient, awsFor(moto.endpoint));
  const mock = mockClient(lambda);
  mock.send.callThrough();
  const puts: Array<{ input: PutProvisionedConcurrencyConfigCommandInput; aliasVersion?: string }> = [];
  let requested: number | undefined;
  let reads = 0;
  mock.on(PutProvisionedConcurrencyConfigCommand).callsFake(async (input) => {
    const alias = await reader.send(
      new GetAliasCommand({ FunctionName: input.FunctionName, Name: input.Qualifier }),
    );
    puts.push({ input, aliasVersion: alias.FunctionVersion });
    requested = input.ProvisionedConcurrentExecutions;
    reads = 0;
    return { Status: "IN_PROGRESS", RequestedProvisionedConcurrentExecutions: requested };
  });
  mock.on(GetProvisionedConcurrencyConfigCommand).callsFake(async () => {
    if (requested === undefined) {
      const error = new Error("No Provisioned Concurrency Config found for this function");
      error.name = "ProvisionedConcurrencyConfigNotFoundException";
      throw error;
    }
    reads += 1;
    const status = reads <= pending ? { Status: "IN_PROGRESS" } : final;
    return {
      ...status,
      RequestedProvisionedConcurrentExecutions: requested,
      AvailableProvisionedConcurrentExecutions: status.Status === "READY" ? requested : 0,
    };
  });
  return { lambda, puts, reads: () => reads };
}

/** deployLambda of the new zip through `lambda` (the client with the provisioning stand-in). */
const deployWith = (lambda: LambdaClient, canary?: false) =>
  deployLambda({
    env,
    zipFile: newZipFile,
    lambda,
    aws: awsFor(moto.endpoint),
    canary,
    reporter: memoryReporter(),
    ...fast,
  });

describe("worker.provisionedConcurrency (Lambda on moto; provisioned-concurrency calls by aws-sdk-client-mock)", () => {
  it("names the field when the count is not a positive integer", () => {
    expect(() => testEnvironment([[["worker", "provisionedConcurrency"], 0]])).toThrow(
      "worker.provisionedConcurrency: expected >= 1, got number 0",
    );
  });

  it("plans the provisioned concurrency with the code change", async () => {
    await createWorkerFunction(moto.endpoint, env, oldZip);
    const { lambda } = lambdaWithProvisioning();
    const plan = await planLambda({ env, zipFile: newZipFile, lambda, canary: false });
    expect(plan.changes).toContainEqual({ field: "provisioned concurrency", from: "none", to: "3" });
    expect(plan.steps.at(-1)).toBe("PutProvisionedConcurrencyConfig live: 3, then wait until READY");
  });

  it("sets it on the alias after the shift and waits until it is READY (aws-sdk-client-mock for Put/GetProvisionedConcurrencyConfig)", async () => {
    await createWorkerFunction(moto.endpoint, env, oldZip);
    const { lambda, puts, reads } = lambdaWithProvisioning(2);
    const outcome = await deployWith(lambda, false);
    expect(outcome.status).toBe("succeeded");
    expect(puts).toEqual([
      {
        input: {
          FunctionName: env.worker.functionName,
          Qualifier: "live",
          ProvisionedConcurrentExecutions: 3,
        },
        aliasVersion: "2",
      },
    ]);
    expect(reads()).toBe(3);
  });

  it("reports failed, naming Lambda's reason, when the provisioned concurrency never becomes READY (aws-sdk-client-mock)", async () => {
    await createWorkerFunction(moto.endpoint, env, oldZip);
    const { lambda } = lambdaWithProvisioning(1, {
      Status: "FAILED",
      StatusReason: "not enough unreserved concurrency",
    });
    const outcome = await deployWith(lambda, false);
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe(
      "live points at version 2, but its provisioned concurrency is not ready: FAILED: not enough unreserved concurrency",
    );
  });

  it("sets it when only the count in the file changed, without a new version (aws-sdk-client-mock)", async () => {
    await createWorkerFunction(moto.endpoint, env, newZip);
    const { lambda, puts } = lambdaWithProvisioning(0);
    const outcome = await deployWith(lambda);
    expect(outcome.status).toBe("succeeded");
    expect(outcome.reason).toBe("live stays on version 1; 3 provisioned executions are READY");
    expect(puts.map((put) => put.aliasVersion)).toEqual(["1"]);
  });
});
