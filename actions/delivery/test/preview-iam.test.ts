// The preview's AWS calls, made as dev's preview role (previews.roleArn, never the deploy role: the job
// runs the pull request's code) through preview.yml's OIDC token in the `preview` GitHub environment and
// recorded at moto, decided against the policies terraform renders for that role (modules/github-oidc
// with the previews input): up, a second up, reap and down need nothing they are not granted, and no
// more than the previews' own resources and reads of the base they copy.
import {
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { type Environment, loadEnvironments, previewNames } from "@content-engine/environments";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assume } from "../../../test/rehearsal/world.ts";
import { type AwsProxy, startAwsProxy } from "../../../test/support/aws-proxy.ts";
import { digest, testEnvironment, workerZip } from "../../../test/support/delivery-fixtures.ts";
import { auditFailures, auditRecord, createIamRecorder } from "../../../test/support/iam-audit.ts";
import { assumeWithJobToken, jobClaims } from "../../../test/support/iam-oidc-token.ts";
import { type IamRole, renderDeliveryRoles, subjectClaimKeys } from "../../../test/support/iam-roles.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { baseWorld } from "../../preview/test/preview-world.ts";
import { downPreview, reapPreviews, upPreview } from "../src/preview.ts";
import { memoryReporter } from "../src/reporter.ts";

const REPOSITORY = "acme/content-engine";

/** ECR's registry protocol, which IAM authorises per request; moto is not the registry. */
const REGISTRY = "a registry-protocol request at <account>.dkr.ecr…, not an ECR API call moto records";
/** Grants of the preview role these calls do not reach, and why they are still needed. */
const NOT_EXERCISED: Record<string, string> = {
  "ecr:GetAuthorizationToken":
    "build-push's login before it pushes the pull request's image (preview.yml), and up's fetch of the worker bundle; this test gives up a local zip",
  "ecr:BatchCheckLayerAvailability": `build-push's unsigned push of the pull request's image and bundle: ${REGISTRY}`,
  "ecr:InitiateLayerUpload": `build-push's push: ${REGISTRY}`,
  "ecr:UploadLayerPart": `build-push's push: ${REGISTRY}`,
  "ecr:CompleteLayerUpload": `build-push's push: ${REGISTRY}`,
  "ecr:PutImage": `build-push's push: ${REGISTRY}`,
  "ecr:BatchGetImage": `up's fetch of the pull request's worker bundle by digest: ${REGISTRY}`,
  "ecr:GetDownloadUrlForLayer": `up's fetch of the pull request's worker bundle: ${REGISTRY}`,
  "lambda:UpdateFunctionConfiguration":
    "up sets a preview function's variables again only when they differ (the base function's changed)",
  "sqs:ListQueueTags":
    "up reads created-at from the queues when the preview's service is missing (half created)",
  "s3:DeleteObjectVersion":
    "down deletes every version under the prefix in a versioned bucket; moto's test bucket is not versioned",
};
const moto = useMoto({ env: { MOTO_ECS_SERVICE_RUNNING: "1" } });
let proxy: AwsProxy;
let recorder: ReturnType<typeof createIamRecorder>;
let roles: IamRole[];
let claimKeys: string[];
const base: Environment = testEnvironment();

beforeAll(async () => {
  roles = await renderDeliveryRoles(loadEnvironments().environments, REPOSITORY);
  claimKeys = await subjectClaimKeys();
  recorder = createIamRecorder();
  // S3 (object operations named) and Lambda (REST) on one endpoint: every body kept for the record.
  proxy = await startAwsProxy(moto.endpoint, { onExchange: recorder.onExchange, withBodies: () => true });
}, 120_000);
afterAll(async () => {
  await proxy?.stop();
});

const aws = (credentials: AwsCredentialIdentity) => ({
  region: base.region,
  endpoint: proxy.url,
  credentials,
});

/** preview.yml's job in the preview environment, from main: its OIDC token traded for the preview role's credentials. */
async function previewJobCredentials(): Promise<AwsCredentialIdentity> {
  const claims = jobClaims({
    repository: REPOSITORY,
    workflowFile: "preview.yml",
    ref: "refs/heads/main",
    eventName: "pull_request_target",
    environment: "preview",
  });
  return assumeWithJobToken(proxy.url, base.previews!.roleArn!, claims, claimKeys, "preview");
}

describe("the preview's calls as dev's preview role", () => {
  it("up, a second up, reap and down are all granted, on the previews' resources only", async () => {
    // What terraform leaves in dev's account (the harness, unchecked): the task definition passes the
    // roles terraform names (modules/ecs-service), as the deploy role's PassRole grant expects.
    const harness = aws(await assume(proxy.url, base.deployRoleArn!));
    const world = await baseWorld(proxy.url, base, harness);
    const cluster = base.api.cluster;
    const running = await world.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: `${cluster}-api` }),
    );
    const { taskDefinitionArn: _, revision: __, status: ___, ...definition } = running.taskDefinition!;
    const registered = await world.ecs.send(
      new RegisterTaskDefinitionCommand({
        ...(definition as RegisterTaskDefinitionCommandInput),
        containerDefinitions: definition.containerDefinitions!,
        taskRoleArn: `arn:aws:iam::${base.accountId}:role/${cluster}-api-task`,
        executionRoleArn: `arn:aws:iam::${base.accountId}:role/${cluster}-api-execution`,
      }),
    );
    await world.ecs.send(
      new UpdateServiceCommand({
        cluster,
        service: base.api.service,
        taskDefinition: registered.taskDefinition!.taskDefinitionArn,
      }),
    );
    const before = recorder.calls().length;

    const job = aws(await previewJobCredentials());
    const common = { base, aws: job, reporter: memoryReporter(), pollSeconds: 0.05, timeoutSeconds: 20 };
    const zip = workerZip("export const handler = async () => 'pr';");
    expect((await upPreview({ ...common, number: 21, digest: digest("a"), zipFile: zip })).status).toBe(
      "succeeded",
    );
    expect((await upPreview({ ...common, number: 21, digest: digest("b"), zipFile: zip })).status).toBe(
      "succeeded",
    );
    await world.s3.send(
      new PutObjectCommand({
        Bucket: base.bucket,
        Key: `${previewNames(base, 21).bucketPrefix}jobs/x.json`,
        Body: "{}",
      }),
    );
    expect(await reapPreviews({ ...common, maxCount: 5, maxAgeHours: 72, keep: 22 })).toEqual([]);
    const down = await downPreview({ ...common, number: 21 });
    expect(down.status, down.reason).toBe("succeeded");

    const calls = recorder.calls().slice(before);
    const result = auditRecord(calls, roles);
    expect(auditFailures(result)).toEqual([]);
    expect(result.actionOnly).toEqual([]);
    expect(result.checkedCalls).toBeGreaterThan(50);
    // Only the preview role made them: the deploy role was never assumed by the job.
    expect(result.used["github-oidc/deploy"]).toBeUndefined();
    // Every grant of the preview role is used by these calls, or written down why not.
    const preview = roles.find((r) => r.arn === base.previews!.roleArn)!;
    expect(preview.name).toBe("dev preview");
    const used = new Set(result.used["github-oidc/previews"]);
    const previewGrants = preview.permissions
      .flatMap((document) => document.Statement ?? [])
      .flatMap((s) => [s.Action ?? []].flat());
    expect(previewGrants.filter((action) => !used.has(action) && !(action in NOT_EXERCISED))).toEqual([]);
    expect(Object.keys(NOT_EXERCISED).filter((action) => used.has(action))).toEqual([]);
  }, 120_000);
});
