// Why a granted action may go unused in the IAM record (iam-audit.ts): a grant no recorded call uses
// needs a line here, and a line whose action is used, or no longer granted, fails the check too.
// A table rather than comments beside the grants: it is checked both ways, and one grant of a module
// serves every environment (the record counts a use in any of them).
// Keys: `<module>/<document> <action>`.

/** ECR's registry protocol: calls to <account>.dkr.ecr.<region>.amazonaws.com, which IAM authorises per request. */
const REGISTRY =
  "a registry-protocol request (OCI push or pull at <account>.dkr.ecr…), which ECR authorises as this action; in the rehearsal the registry is crane, not moto, so only ecr:GetAuthorizationToken reaches the record";

/** The delivery roles (modules/github-oidc), against the full rehearsal's record. */
export const DELIVERY_GRANT_REASONS: Record<string, string> = {
  "github-oidc/deploy ecr:BatchCheckLayerAvailability": `build-push's image and bundle push: ${REGISTRY}`,
  "github-oidc/deploy ecr:InitiateLayerUpload": `build-push's image and bundle push: ${REGISTRY}`,
  "github-oidc/deploy ecr:UploadLayerPart": `build-push's image and bundle push: ${REGISTRY}`,
  "github-oidc/deploy ecr:CompleteLayerUpload": `build-push's image and bundle push: ${REGISTRY}`,
  "github-oidc/deploy ecr:PutImage": `build-push's push, cosign's signature and the deploy's deployed-<hex> tag: ${REGISTRY}`,
  "github-oidc/deploy ecr:BatchGetImage": `deploy-lambda's bundle fetch and the deploys' signature check: ${REGISTRY}`,
  "github-oidc/deploy ecr:GetDownloadUrlForLayer": `deploy-lambda's bundle fetch: ${REGISTRY}`,
  "github-oidc/promote_read ecr:BatchGetImage": `promote's plan of the worker bundle (its manifest): ${REGISTRY}`,
  "github-oidc/previews ecr:BatchCheckLayerAvailability": `build-push's unsigned push of a pull request's image and bundle (preview.yml): ${REGISTRY}`,
  "github-oidc/previews ecr:InitiateLayerUpload": `build-push's unsigned push (preview.yml): ${REGISTRY}`,
  "github-oidc/previews ecr:UploadLayerPart": `build-push's unsigned push (preview.yml): ${REGISTRY}`,
  "github-oidc/previews ecr:CompleteLayerUpload": `build-push's unsigned push (preview.yml): ${REGISTRY}`,
  "github-oidc/previews ecr:PutImage": `build-push's unsigned push of the pull request's image and bundle (preview.yml): ${REGISTRY}`,
  "github-oidc/previews ecr:BatchGetImage": `the preview's fetch of the pull request's worker bundle by digest: ${REGISTRY}`,
  "github-oidc/previews ecr:GetDownloadUrlForLayer": `the preview's fetch of the pull request's worker bundle: ${REGISTRY}`,
  "github-oidc/promote_read ecr:GetDownloadUrlForLayer": `promote's read of the worker bundle: ${REGISTRY}`,
  "github-oidc/deploy cloudwatch:DeleteAlarms":
    "observability-apply deletes a managed alarm the generated set no longer has; the rehearsal's generated set never shrinks",
  "github-oidc/deploy cloudwatch:TagResource":
    "observability-apply tags an existing alarm it adopts (Put*Alarm does not retag); every alarm in the rehearsal is created by it, tagged at creation",
  "github-oidc/deploy ecs:StopTask":
    "deploy-ecs stops a pre-deploy task that outlives its timeoutSeconds; the rehearsal's pre-deploy task exits at once (the timeout is tested against moto in ecs-pre-deploy.test.ts)",
  "github-oidc/deploy ecs:DeregisterTaskDefinition":
    "deploy-ecs deregisters revisions beyond api.keepRevisions (10); no rehearsed family reaches that many (tested against moto in ecs-revisions.test.ts)",
  "github-oidc/deploy elasticloadbalancing:DescribeTargetHealth":
    "deploy-ecs's failure diagnosis reads target health of the service's target groups; moto's service has no load balancer attached, so the broken rollout's diagnosis has none to read",
  "github-oidc/deploy lambda:CreateAlias":
    "deploy-lambda creates the alias only where it is missing; terraform's lambda-worker module creates it, as the rehearsal's world does",
  "github-oidc/deploy lambda:UpdateEventSourceMapping":
    "deploy-lambda brings the SQS mapping's batch size and concurrency to the file's when they differ; no chain changes them",
  "github-oidc/deploy lambda:UpdateFunctionConfiguration":
    "deploy-lambda updates the function's memory, timeout or environment when the file changes them; no chain changes the worker's",
  "github-oidc/previews lambda:UpdateFunctionConfiguration":
    "up on an existing preview whose worker variables differ (the base function's changed); the rehearsal's second push changes code only",
  "github-oidc/previews s3:DeleteObject":
    "DeleteObjects (down's removal of every object under previews/pr-<n>/) is authorised as s3:DeleteObject per key; the rehearsal's preview stores its documents in the data plane's S3 emulator, not moto, so moto's bucket holds nothing to delete",
  "github-oidc/previews s3:DeleteObjectVersion":
    "the same removal in a versioned bucket (terraform's storage module versions it), per version; nothing to delete in the rehearsal's moto bucket, as above",
  "github-oidc/previews sqs:ListQueueTags":
    "up on a half-created preview takes created-at from its queue's tags when it has no service yet; the rehearsal's previews are whole",
};

/** The workload roles (modules/workload-iam), against the runtime record (test/infra/iam-services.test.ts). */
export const WORKLOAD_GRANT_REASONS: Record<string, string> = {};
