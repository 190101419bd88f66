// The shape of an environment file. Parsed once at the edge; everything downstream trusts it.
import { z } from "zod";

/**
 * An environment's name: lowercase letters and digits in hyphen-separated words, starting with a letter,
 * at most 12 characters (terraform names the load balancer's target group `content-engine-<name>-api`,
 * and AWS allows 32). The set of environments is the set of files `environments/<name>.yaml`; no list of
 * names is written anywhere else. terraform/modules/content-engine checks the same pattern.
 */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
export const ENVIRONMENT_NAME_MAX_LENGTH = 12;
/** Names no file may take: the local stack's metrics label, and the preview environments' `pr-<number>`. */
export const RESERVED_ENVIRONMENT_NAMES = /^(local|pr-.*)$/;
export type EnvironmentName = string;

/** Why `name` cannot name an environment file, or undefined when it can. */
export function environmentNameProblem(name: string): string | undefined {
  if (!ENVIRONMENT_NAME_PATTERN.test(name))
    return "lowercase letters and digits in hyphen-separated words, starting with a letter (e.g. qa, prod-eu)";
  if (name.length > ENVIRONMENT_NAME_MAX_LENGTH)
    return `at most ${ENVIRONMENT_NAME_MAX_LENGTH} characters (AWS limits the names terraform derives from it)`;
  if (RESERVED_ENVIRONMENT_NAMES.test(name))
    return "not local (the local stack's metrics label) and not pr-* (preview environments)";
  return undefined;
}

export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

const environmentName = z.string().superRefine((name, ctx) => {
  const problem = environmentNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: `an environment name: ${problem}` });
});
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

export const preDeployTaskSchema = z
  .object({
    command: z
      .array(z.string().min(1, { message: "a non-empty word" }))
      .min(1, { message: "a command of at least one word, e.g. [npm, run, migrate]" })
      .describe("Command override of the application container, as an argv list."),
    timeoutSeconds: positiveInt
      .max(86400, { message: "at most 86400 seconds (one day)" })
      .default(600)
      .describe("Stop the task and the deploy when it has not stopped by then (default 600)."),
  })
  .strict();

/**
 * Variables of the API container that terraform (modules/content-engine, modules/ecs-service) sets: the
 * service contract's resource names, the port, the log level, and the API keys secret. A file may not
 * set them (test/infra/ecs-secrets.test.ts keeps this list equal to terraform's).
 */
export const TERRAFORM_CONTAINER_VARIABLES = [
  "AWS_REGION",
  "CONTENT_ENGINE_API_KEYS",
  "CONTENT_ENGINE_BUCKET",
  "CONTENT_ENGINE_DLQ_URL",
  "CONTENT_ENGINE_MAX_UPLOAD_BYTES",
  "CONTENT_ENGINE_QUEUE_URL",
  "LOG_LEVEL",
  "PORT",
] as const;

/** An SSM parameter or a Secrets Manager secret (optionally `:json-key:version-stage:version-id`), as ECS `valueFrom` takes it. */
export const SECRET_ARN_PATTERN =
  /^arn:aws[a-z-]*:(ssm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:parameter\/[A-Za-z0-9_.\-/]+|secretsmanager:[a-z]{2}(-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+(:[^:\s]*:[^:\s]*:[^:\s]*)?)$/;

/**
 * The resource IAM decides a secret reference on: the parameter, or the secret without ECS's
 * `:json-key:version-stage:version-id` selector.
 *
 * @example
 * secretResourceArn("arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf:password::"); // "arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf"
 */
export function secretResourceArn(valueFrom: string): string {
  return valueFrom.includes(":secretsmanager:") ? valueFrom.split(":").slice(0, 7).join(":") : valueFrom;
}

/** Why a container variable name may not come from a file, or undefined when it may. */
function containerVariableProblem(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(name))
    return "a variable name (letters, digits, underscore; not starting with a digit)";
  if ((TERRAFORM_CONTAINER_VARIABLES as readonly string[]).includes(name))
    return `a name terraform does not set (${TERRAFORM_CONTAINER_VARIABLES.join(", ")} are terraform's)`;
  if (/^(ECS_|AWS_CONTAINER_)/.test(name))
    return "a name the ECS agent does not set (ECS_*, AWS_CONTAINER_* are its own)";
  return undefined;
}

/** awslogs options a file may set; the group, region and endpoint stay terraform's (the execution role may write only there). */
export const apiLogConfigurationSchema = z
  .object({
    options: z
      .object({
        "awslogs-stream-prefix": z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: "a stream prefix (letters, digits, _ . -)" })
          .optional(),
        mode: z.enum(["blocking", "non-blocking"]).optional(),
        "max-buffer-size": z
          .string()
          .regex(/^\d+[kmg]?$/, { message: "a buffer size such as 25m" })
          .optional(),
        "awslogs-datetime-format": z.string().min(1).optional(),
        "awslogs-multiline-pattern": z.string().min(1).optional(),
      })
      .strict()
      .describe(
        "awslogs options of the application container, over terraform's: awslogs-stream-prefix, mode, max-buffer-size, awslogs-datetime-format, awslogs-multiline-pattern. awslogs-group, -region, -create-group and -endpoint are terraform's.",
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
    preDeploy: z
      .array(preDeployTaskSchema)
      .default([])
      .describe(
        "One-off tasks deploy-ecs runs from the new task definition revision (RunTask, the service's network configuration) before the service update, in order, e.g. a database migration. A non-zero exit or a timeout stops the deploy with the previous revision still serving.",
      ),
    containers: z
      .record(
        z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/, { message: "an ECS container name" }),
        z
          .object({
            image: z
              .string()
              .regex(/^[^\s@]+@sha256:[a-f0-9]{64}$/, {
                message:
                  "an image by digest, <repository>@sha256:<64 hex> (a tag is refused: deploys are by digest)",
              })
              .describe("Image of this container, by digest."),
          })
          .strict(),
      )
      .default({})
      .describe(
        "Images of the task's other containers (sidecars) by container name, digests only; the application container's image is image.digest.",
      ),
    environment: z
      .record(z.string(), z.string({ message: 'a string (quote numbers and booleans: "5", "true")' }))
      .default({})
      .describe(
        "Plain environment variables of the application container, set over the ones the revision carries (terraform's stay). Never secrets: those go in api.secrets.",
      ),
    secrets: z
      .record(
        z.string(),
        z.string().regex(SECRET_ARN_PATTERN, {
          message:
            "an ARN, never the value: arn:aws:ssm:<region>:<account>:parameter/<name> or arn:aws:secretsmanager:<region>:<account>:secret:<name-with-suffix>[:json-key:version-stage:version-id]",
        }),
      )
      .default({})
      .describe(
        "Secrets of the application container by variable name: SSM parameter or Secrets Manager secret ARNs, never values. The execution role may read exactly these (api_secret_arns of terraform/envs/<env>.tfvars).",
      ),
    logConfiguration: apiLogConfigurationSchema
      .optional()
      .describe("awslogs options of the application container (the log group stays terraform's)."),
    keepRevisions: nonNegativeInt
      .default(10)
      .describe(
        "Unused task definition revisions of the API family deploy-ecs keeps after a rollout (default 10); older ones are deregistered. The serving revision, the previous one (rollback target), any an ECS deployment references and any newer than the serving one are never deregistered.",
      ),
  })
  .strict()
  .refine((api) => api.minCount <= api.desiredCount && api.desiredCount <= api.maxCount, {
    message: "minCount <= desiredCount <= maxCount",
    path: ["desiredCount"],
  })
  .superRefine((api, ctx) => {
    for (const field of ["environment", "secrets"] as const)
      for (const name of Object.keys(api[field])) {
        const problem = containerVariableProblem(name);
        if (problem) ctx.addIssue({ code: "custom", path: [field, name], message: problem });
      }
    for (const name of Object.keys(api.secrets))
      if (name in api.environment)
        ctx.addIssue({
          code: "custom",
          path: ["secrets", name],
          message: `a variable named once: ${name} is in api.environment too`,
        });
  });

export const kedaSchema = z
  .object({
    queueLength: positiveInt.describe("Visible messages per worker replica KEDA aims for."),
    minReplicas: nonNegativeInt,
    maxReplicas: positiveInt,
  })
  .strict();

export const CANARY_TYPES = ["linear", "canary", "all-at-once"] as const;
export type CanaryType = (typeof CANARY_TYPES)[number];

/**
 * How deploy-lambda shifts the alias, as CodeDeploy's Lambda configurations do:
 * `Canary10Percent5Minutes` = `{ type: canary, percent: 10, intervalSeconds: 300 }`,
 * `Linear10PercentEvery1Minute` = `{ type: linear, percent: 10, intervalSeconds: 60 }`,
 * `AllAtOnce` = `{ type: all-at-once }`. The older `{ percent, minutes }` is a canary of minutes × 60 s.
 */
export const canarySchema = z
  .object({
    type: z
      .enum(CANARY_TYPES)
      .default("canary")
      .describe(
        "canary: percent for intervalSeconds, then 100%. linear: percent more every intervalSeconds (steps times), then 100%. all-at-once: 100% at once.",
      ),
    percent: z
      .int()
      .min(1)
      .max(99)
      .optional()
      .describe("Share of invocations the new version gains at each step (required unless all-at-once)."),
    intervalSeconds: z
      .number()
      .positive()
      .optional()
      .describe(
        "Seconds each step runs while the deployment alarms are watched (required unless all-at-once).",
      ),
    steps: z
      .int()
      .min(1)
      .max(99)
      .optional()
      .describe(
        "linear: weighted steps before the full shift (default: as many as stay below 100%); canary: 1.",
      ),
    minutes: z
      .number()
      .positive()
      .optional()
      .describe("Older spelling of intervalSeconds / 60 for a canary; give one of the two."),
  })
  .strict()
  .superRefine((canary, ctx) => {
    const problem = (field: string, message: string) =>
      ctx.addIssue({ code: "custom", path: [field], message });
    if (canary.type === "all-at-once") {
      for (const field of ["percent", "intervalSeconds", "steps", "minutes"] as const)
        if (canary[field] !== undefined)
          problem(field, "no percent, intervalSeconds, steps or minutes with type all-at-once");
      return;
    }
    if (canary.percent === undefined) problem("percent", `a percent (1-99) for type ${canary.type}`);
    if (canary.minutes !== undefined && canary.intervalSeconds !== undefined)
      problem("minutes", "intervalSeconds or minutes, not both");
    if (canary.minutes === undefined && canary.intervalSeconds === undefined)
      problem("intervalSeconds", `seconds per step (intervalSeconds) for type ${canary.type}`);
    if (canary.type === "canary" && canary.steps !== undefined && canary.steps !== 1)
      problem("steps", "1 for type canary (use type linear for several steps)");
    if (
      canary.type === "linear" &&
      canary.steps !== undefined &&
      canary.percent !== undefined &&
      canary.percent * canary.steps >= 100
    )
      problem(
        "steps",
        `percent × steps below 100 (at most ${Math.floor(99 / canary.percent)} steps of ${canary.percent}%)`,
      );
  });
export type CanarySettings = z.input<typeof canarySchema>;

export const workerSchema = z
  .object({
    functionName: z.string().min(1).describe("Lambda function name of the worker."),
    alias: z.string().min(1).default("live").describe("Alias the SQS event source mapping invokes."),
    memory: z.int().min(128).max(10240).describe("Lambda memory in MiB."),
    timeout: z.int().min(1).max(900).describe("Lambda timeout in seconds."),
    batchSize: z.int().min(1).max(10000),
    maxConcurrency: z.int().min(2).max(1000),
    canary: canarySchema
      .optional()
      .describe(
        "How the alias shifts to a new version (linear, canary or all-at-once); absent means at once.",
      ),
    provisionedConcurrency: z
      .int()
      .min(1)
      .optional()
      .describe(
        "Provisioned concurrency on the alias, set after the shift; the deploy waits until it is READY. Absent: none is managed.",
      ),
    bundle: digestSchema
      .optional()
      .describe(
        "sha256 of the worker bundle (lambda.zip), stored by build-push in the image repository; deploys fetch these exact bytes.",
      ),
    package: z
      .enum(["zip", "image"])
      .default("zip")
      .describe(
        "How the worker Lambda is packaged: zip (worker.bundle or lambda.zip) or image (worker.image from image.repository). Lambda fixes it when the function is created.",
      ),
    image: digestSchema
      .optional()
      .describe(
        "Digest of the worker's container image in image.repository, run by a package: image function; promotion moves it.",
      ),
    keda: kedaSchema.optional().describe("Worker autoscaling on EKS."),
  })
  .strict()
  .superRefine((worker, ctx) => {
    if (worker.package === "image" && !worker.image)
      ctx.addIssue({
        code: "custom",
        path: ["image"],
        message: "a worker image digest sha256:<64 hex characters> with package: image",
      });
  });

/** A chart in an OCI registry, pinned: an exact version, or a `@sha256:` digest that helm pull must serve. */
export const ociChartSchema = z
  .object({
    oci: z.string().regex(/^oci:\/\/[^\s@:/]+(:\d+)?(\/[a-z0-9._-]+)+(@sha256:[a-f0-9]{64})?$/, {
      message: "an oci://host/repository/chart reference, optionally pinned with @sha256:<64 hex>",
    }),
    version: z
      .string()
      .regex(/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/, {
        message: "an exact chart version (x.y.z), not a range",
      })
      .optional(),
  })
  .strict()
  .refine((chart) => /@sha256:/.test(chart.oci) !== Boolean(chart.version), {
    message: "a pinned chart: either version: x.y.z or a reference ending in @sha256:<digest>, not both",
  });

/** A Helm value path as eks.set and the set input take it: dotted segments, nothing a shell or strvals reads. */
export const HELM_VALUE_KEY = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export const eksSchema = z
  .object({
    cluster: z.string().min(1),
    namespace: z.string().min(1).default("content-engine"),
    release: z.string().min(1).default("content-engine"),
    apiRoleArn: z.string().optional().describe("IRSA role of the API service account."),
    workerRoleArn: z.string().optional().describe("IRSA role of the worker service account."),
    chart: z
      .union([
        z
          .object({
            directory: z.string().min(1).describe("Chart folder, relative to the repository root."),
          })
          .strict(),
        ociChartSchema,
      ])
      .optional()
      .describe(
        "The chart deploy-helm installs: { directory } or { oci, version } / { oci: …@sha256:… }; default helm/content-engine. The run's chart input wins over it.",
      ),
    valuesFiles: z
      .array(
        z
          .string()
          .min(1)
          .refine((path) => !/^([\\/]|[A-Za-z]:)/.test(path) && !path.split(/[\\/]/).includes(".."), {
            message: "a path inside the repository, relative to its root (no leading / and no ..)",
          }),
      )
      .default([])
      .describe(
        "Extra Helm values files, relative to the repository root, applied in order over the chart's values.yaml; eks.set and the run's values-files/set go over them.",
      ),
    set: z
      .record(
        z.string().regex(HELM_VALUE_KEY, {
          message: "a dotted value path of letters, digits, _ and - (e.g. podAnnotations.team)",
        }),
        z.union([z.string(), z.number(), z.boolean()]),
      )
      .default({})
      .describe(
        "Helm values by dotted path (helm --set), over eks.valuesFiles and under the run's values-files/set.",
      ),
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
    from: environmentName
      .optional()
      .describe(
        "The environment this one promotes from (promote.yml opens a pull request from it to this file). Exactly one environment, the one deploy.yml builds for, has none; the promotion order is the chain of these.",
      ),
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

export const previewsSchema = z
  .object({
    domain: z
      .string()
      .regex(/^(?=.{1,200}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, {
        message: "a DNS domain such as previews.example.com",
      })
      .describe(
        "Preview URLs are https://pr-<number>.<domain>: a host-header rule on this environment's load balancer. A wildcard DNS record *.<domain> pointing at the load balancer (and a certificate for it) is the prerequisite (terraform/README.md).",
      ),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { message: "an IAM role ARN" })
      .optional()
      .describe(
        "Role preview.yml assumes (terraform output preview_role_arn): exactly the previews' resources and unsigned image pushes; never the release signing key, never this environment's own service. It runs the pull request's code, so it is not the deploy role.",
      ),
    maxCount: positiveInt
      .max(20, { message: "at most 20 previews" })
      .default(5)
      .describe(
        "At most this many previews at once: a new one reaps the oldest (with a comment on its pull request).",
      ),
    maxAgeHours: positiveInt
      .max(720, { message: "at most 720 hours (30 days)" })
      .default(72)
      .describe(
        "The scheduled reaper destroys previews older than this (with a comment on their pull requests).",
      ),
  })
  .strict()
  .describe(
    "Preview environments pr-<number>, one per pull request labelled `preview`, derived from this file and living in its account. At most one environment file has this block.",
  );

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
    bucketPrefix: z
      .string()
      .regex(/^([a-z0-9-]+\/)+$/, {
        message: "a key prefix of [a-z0-9-] segments, each ending in /, e.g. previews/pr-12/",
      })
      .max(200)
      .optional()
      .describe(
        "Key prefix of everything the API and the worker store in the bucket (CONTENT_ENGINE_KEY_PREFIX). Only preview environments have one (previews/pr-<number>/, derived, never in a file: the worker's prefix is set where its function is made); a file's keys start at the bucket's root.",
      ),
    previews: previewsSchema.optional(),
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
  ["worker", "image"],
] as const;
