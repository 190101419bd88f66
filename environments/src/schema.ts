// The shape of an environment file. Parsed once at the edge; everything downstream trusts it.
import { z } from "zod";

export const ENVIRONMENT_NAMES = ["dev", "staging", "prod"] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

const environmentName = z.enum(ENVIRONMENT_NAMES);
const positiveInt = z.int().positive();
const nonNegativeInt = z.int().nonnegative();

export const digestSchema = z
  .string()
  .regex(DIGEST_PATTERN, { message: "an image digest sha256:<64 hex characters>" })
  .describe("Immutable image digest, sha256:<64 hex>.");

export const imageSchema = z
  .object({
    repository: z
      .string()
      .min(1)
      .describe(
        "ECR repository URL without tag, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/content-engine.",
      ),
    digest: digestSchema,
    tag: z.string().min(1).describe("Human-readable tag of the same image (never used to deploy)."),
  })
  .strict();

export const signingSchema = z
  .object({
    key: z
      .string()
      .regex(
        /^awskms:\/\/\/(alias\/[A-Za-z0-9/_-]+|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+)$/,
        {
          message: "a cosign KMS key reference awskms:///alias/<name> or awskms:///<key or alias ARN>",
        },
      )
      .optional()
      .describe(
        "The key build-push signs images and worker bundles with (cosign, terraform output signing_key_uri). Only the environment that builds (dev) needs it.",
      ),
    publicKey: z
      .string()
      .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+\.pub$/, {
        message: "a .pub file path relative to the environments folder, e.g. signing/cosign.pub",
      })
      .describe(
        "PEM public key every deploy verifies the image's and the worker bundle's cosign signature with, relative to this file's folder (terraform output -raw signing_public_key). A digest without a valid signature is refused before anything changes.",
      ),
  })
  .strict();

export const apiSchema = z
  .object({
    cluster: z.string().min(1).describe("ECS cluster name."),
    service: z.string().min(1).describe("ECS service name of the HTTP API."),
    loadBalancer: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,31}$/, {
        message: "an ALB name (letters, digits, dashes; 32 at most)",
      })
      .describe("Name of the API's application load balancer (terraform output load_balancer_name)."),
    targetGroup: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,31}$/, {
        message: "a target group name (letters, digits, dashes; 32 at most)",
      })
      .describe("Name of the API's target group (terraform output target_group_name)."),
    cpu: positiveInt.describe("Task CPU units (256 = 0.25 vCPU)."),
    memory: positiveInt.describe("Task memory in MiB."),
    desiredCount: nonNegativeInt,
    minCount: nonNegativeInt,
    maxCount: positiveInt,
  })
  .strict()
  .refine((api) => api.minCount <= api.desiredCount && api.desiredCount <= api.maxCount, {
    message: "minCount <= desiredCount <= maxCount",
    path: ["desiredCount"],
  });

export const kedaSchema = z
  .object({
    queueLength: positiveInt.describe("Visible messages per worker replica KEDA aims for."),
    minReplicas: nonNegativeInt,
    maxReplicas: positiveInt,
  })
  .strict();

export const canarySchema = z
  .object({
    percent: z.int().min(1).max(99).describe("Share of invocations routed to the new version."),
    minutes: z.number().positive().describe("How long the canary runs before shifting fully."),
  })
  .strict();

export const workerSchema = z
  .object({
    functionName: z.string().min(1).describe("Lambda function name of the worker."),
    alias: z.string().min(1).default("live").describe("Alias the SQS event source mapping invokes."),
    memory: z.int().min(128).max(10240).describe("Lambda memory in MiB."),
    timeout: z.int().min(1).max(900).describe("Lambda timeout in seconds."),
    batchSize: z.int().min(1).max(10000),
    maxConcurrency: z.int().min(2).max(1000),
    canary: canarySchema.optional().describe("Weighted-alias canary; absent means shift at once."),
    bundle: digestSchema
      .optional()
      .describe(
        "sha256 of the worker bundle (lambda.zip), stored by build-push in the image repository; deploys fetch these exact bytes.",
      ),
    keda: kedaSchema.optional().describe("Worker autoscaling on EKS."),
  })
  .strict();

export const eksSchema = z
  .object({
    cluster: z.string().min(1),
    namespace: z.string().min(1).default("content-engine"),
    release: z.string().min(1).default("content-engine"),
    apiRoleArn: z.string().optional().describe("IRSA role of the API service account."),
    workerRoleArn: z.string().optional().describe("IRSA role of the worker service account."),
  })
  .strict();

export const thresholdsSchema = z
  .object({
    queueAgeSeconds: positiveInt.default(300).describe("Oldest message age in the jobs queue."),
    queueVisibleMessages: positiveInt.default(1000).describe("Visible messages in the jobs queue."),
    dlqVisibleMessages: nonNegativeInt
      .default(0)
      .describe("Ticket when the DLQ holds more than this (new arrivals page on their own)."),
    apiCpuPercent: z.number().min(1).max(100).default(80),
    apiMemoryPercent: z.number().min(1).max(100).default(85),
    api5xxErrors: nonNegativeInt.default(5).describe("HTTP 5xx responses per 5 minutes."),
    workerErrors: nonNegativeInt.default(5).describe("Worker invocation errors per 5 minutes."),
    lambdaDurationRatio: z
      .number()
      .gt(0)
      .max(1)
      .default(0.8)
      .describe("Worker p90 duration as a share of its timeout."),
    // Optional below: absent means the default the alarms generator documents (alarms/src/thresholds.ts).
    apiP99LatencySeconds: z
      .number()
      .positive()
      .optional()
      .describe("ALB target p99 response time that pages, in seconds (default 2.5)."),
    lambdaThrottles: nonNegativeInt
      .optional()
      .describe("Worker throttles per 5 minutes that page (default 0)."),
    lambdaConcurrencyRatio: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe("Worker concurrent executions as a share of maxConcurrency that pages (default 0.9)."),
    producerStoppedMinutes: nonNegativeInt
      .optional()
      .describe("Minutes without any message sent to the jobs queue before paging; 0 disables (default 60)."),
    apiAvailabilitySlo: z
      .number()
      .gt(0)
      .lt(1)
      .optional()
      .describe("Share of API requests that must not answer 5xx, for burn-rate alarms (default 0.999)."),
    jobFreshnessSlo: z
      .number()
      .gt(0)
      .lt(1)
      .optional()
      .describe("Share of jobs that must start within jobFreshnessSeconds (default 0.99)."),
    jobFreshnessSeconds: positiveInt
      .optional()
      .describe("Queue wait a fresh job stays under; a bucket of the queue-wait histogram (default 60)."),
    jobsFailed: nonNegativeInt
      .optional()
      .describe(
        "Jobs failed by a system fault (outcome failed) per 5 minutes that page and stop deploys (default 0).",
      ),
    jobsRejectedPerHour: nonNegativeInt
      .optional()
      .describe("Jobs rejected for their content (a client fault) per hour that open a ticket (default 50)."),
  })
  .strict();

export const alarmsSchema = z
  .object({
    pageTopicArn: z
      .string()
      .startsWith("arn:")
      .describe(
        "SNS topic of the page tier: system faults users notice, someone acts now (terraform output page_topic_arn).",
      ),
    ticketTopicArn: z
      .string()
      .startsWith("arn:")
      .describe(
        "SNS topic of the ticket tier: client faults and slow trends, the next working day (terraform output ticket_topic_arn).",
      ),
    namePrefix: z.string().min(1).optional().describe("Prefix of this environment's alarm names."),
    deploymentAlarms: z
      .array(z.string().min(1))
      .default([])
      .describe("Alarms that stop an ECS roll-out or a Lambda canary."),
    thresholds: thresholdsSchema.prefault({}),
  })
  .strict();

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: "a time HH:MM" });
export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

export const freezeWindowSchema = z.union([
  z
    .object({
      start: z.iso.datetime({ offset: true }),
      end: z.iso.datetime({ offset: true }),
      reason: z.string().min(1),
    })
    .strict(),
  z
    .object({
      weekdays: z.array(z.enum(WEEKDAYS)).min(1),
      from: clock.describe("UTC time the weekly freeze starts."),
      to: clock.describe("UTC time the weekly freeze ends (same day)."),
      reason: z.string().min(1),
    })
    .strict(),
]);
export type FreezeWindow = z.infer<typeof freezeWindowSchema>;

export const promotionSchema = z
  .object({
    order: z.array(environmentName).min(1).default(["dev", "staging", "prod"]),
    soakMinutes: nonNegativeInt
      .default(30)
      .describe("Minutes this environment runs a digest before it may move on."),
    freezeWindows: z
      .array(freezeWindowSchema)
      .default([])
      .describe(
        "No promotion into this environment during these, and no deploy of it unless the run gives a break-glass reason.",
      ),
  })
  .strict();

export const driftSchema = z
  .object({
    reconcile: z
      .boolean()
      .default(false)
      .describe(
        "When drift (the live system differing from this file) is found by the scheduled drift check, redeploy this file at once.",
      ),
  })
  .strict();

export const environmentSchema = z
  .object({
    $schema: z.string().optional(),
    name: environmentName.describe("Must match the file name."),
    accountId: z.string().regex(/^\d{12}$/, { message: "a 12-digit AWS account id" }),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: "an AWS region such as eu-west-1" }),
    platform: z.enum(["ecs", "eks"]),
    deployRoleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { message: "an IAM role ARN" })
      .optional()
      .describe("Role this environment's GitHub deploy jobs assume (terraform output deploy_role_arn)."),
    readRoleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { message: "an IAM role ARN" })
      .optional()
      .describe(
        "Read-only role promote.yml runs as when it promotes from this environment (alarms, what it serves), and that the previous environment's promote assumes to show what merging would change here (terraform output promote_read_role_arn).",
      ),
    image: imageSchema,
    signing: signingSchema.optional(),
    api: apiSchema,
    worker: workerSchema,
    eks: eksSchema.optional(),
    bucket: z.string().min(3),
    queue: z.object({ url: z.url(), dlqUrl: z.url() }).strict(),
    alarms: alarmsSchema,
    promotion: promotionSchema.prefault({}),
    drift: driftSchema.prefault({}),
  })
  .strict()
  .superRefine((env, ctx) => {
    if (env.platform === "eks" && !env.eks) {
      ctx.addIssue({ code: "custom", path: ["eks"], message: "an eks block (cluster, namespace, release)" });
    }
    if (env.platform === "eks" && !env.worker.keda) {
      ctx.addIssue({ code: "custom", path: ["worker", "keda"], message: "a keda block on EKS" });
    }
  });

export type Environment = z.infer<typeof environmentSchema>;
export type Thresholds = z.infer<typeof thresholdsSchema>;

/** Fields a promotion carries from one environment to the next; everything else stays per environment. */
export const PROMOTABLE_FIELDS = [
  ["image", "digest"],
  ["image", "tag"],
  ["worker", "bundle"],
] as const;
