// What IAM would authorise for a request recorded on the wire (aws-proxy.ts `onExchange`): the
// actions, the resource ARNs and the condition keys, derived from the request alone (and, for an event
// source mapping's function, from mappings seen in earlier answers). Calls whose resource cannot be
// derived here are marked action-only: only their action is checked. And who made it: the access key
// in the SigV4 header, mapped to the role STS issued it for (by AssumeRole or AssumeRoleWithWebIdentity
// answers seen on the same wire).
import type { AwsExchange } from "./aws-proxy.ts";
import type { AuthorizationRequest } from "./iam-policy.ts";

export interface RecordedCall {
  /** Role ARN behind the access key, or a label for who else called (`harness …`, `unsigned`). */
  principal: string;
  /** Whether the principal's policies are checked (a role issued to a checked caller), or not (the harness). */
  checked: boolean;
  /** `ecs UpdateService`, as the wire named it. */
  operation: string;
  /** What IAM authorises for it: one request per action and resource (RegisterTaskDefinition also passes roles). */
  requests: AuthorizationRequest[];
  /** Set when the resource could not be derived: the requests then name the action only. */
  actionOnly?: string;
  /** Set when the exchange could not be read: the call cannot be decided, which the audit reports. */
  error?: string;
  /** For sts:AssumeRoleWithWebIdentity: the claims of the token the caller presented (unsigned JWT here). */
  webIdentityClaims?: Record<string, unknown>;
}

type Params = Record<string, unknown>;

/** The SigV4 credential scope of a request: access key, region and signing service. */
function credentialScope(exchange: AwsExchange) {
  const auth = exchange.headers.authorization;
  const m = typeof auth === "string" ? auth.match(/Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\//) : null;
  return m ? { accessKeyId: m[1]!, region: m[2]!, service: m[3]! } : undefined;
}

/** The request's parameters: a JSON body, or a query-protocol form (list members gathered into arrays). */
function requestParams(exchange: AwsExchange): Params {
  const text = exchange.request.toString("utf8");
  const type = String(exchange.headers["content-type"] ?? "");
  if (type.includes("x-www-form-urlencoded")) {
    const params: Params = {};
    for (const [key, value] of new URLSearchParams(text)) {
      const member = key.match(/^(\w+)\.member\.\d+$/);
      if (!member) {
        params[key] = value;
        continue;
      }
      const values = (params[member[1]!] as string[] | undefined) ?? [];
      values.push(value);
      params[member[1]!] = values;
    }
    return params;
  }
  return jsonObject(text);
}

/** A JSON object body, or an empty one for anything else (an empty answer, XML, `null`). */
function jsonObject(text: string): Params {
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Params) : {};
  } catch {
    return {};
  }
}

const str = (value: unknown) => (typeof value === "string" ? value : undefined);
const strs = (value: unknown) =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
const xmlTag = (xml: string, tag: string) => xml.match(new RegExp(`<${tag}>([^<]*)</${tag}>`))?.[1];

/** Decodes the payload of a JWT (unverified: the rehearsal's tokens are unsigned stand-ins). */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

interface Where {
  region: string;
  account: string;
}

type Derived = { requests: AuthorizationRequest[]; actionOnly?: string };

const only = (action: string, resource = "*", context?: AuthorizationRequest["context"]): Derived => ({
  requests: [{ action, resource, ...(context ? { context } : {}) }],
});
const actionOnly = (action: string, why: string): Derived => ({ requests: [{ action }], actionOnly: why });

/** ECS: the cluster's name (from a name or an ARN) and the ARN of one of its services or tasks. */
function ecs(op: string, p: Params, w: Where): Derived {
  const clusterName = (str(p.cluster) ?? "default").split("/").pop()!;
  const clusterArn = `arn:aws:ecs:${w.region}:${w.account}:cluster/${clusterName}`;
  const base = `arn:aws:ecs:${w.region}:${w.account}`;
  const serviceArn = (s: string) => (s.startsWith("arn:") ? s : `${base}:service/${clusterName}/${s}`);
  const cluster = { "ecs:cluster": clusterArn };
  switch (op) {
    case "RegisterTaskDefinition": {
      // Registering a task definition with roles passes them to ECS tasks: IAM checks iam:PassRole too.
      const roles = [str(p.taskRoleArn), str(p.executionRoleArn)].filter((r): r is string => Boolean(r));
      return {
        requests: [
          { action: "ecs:RegisterTaskDefinition", resource: "*" },
          ...roles.map((role) => ({
            action: "iam:PassRole",
            resource: role,
            context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
          })),
        ],
      };
    }
    case "DescribeTaskDefinition":
    case "ListTaskDefinitions":
    case "DeregisterTaskDefinition":
      return only(`ecs:${op}`);
    case "UpdateService":
      return only("ecs:UpdateService", serviceArn(str(p.service) ?? ""), cluster);
    case "CreateService": {
      // Tags given at creation are authorised as ecs:TagResource on the new service too.
      const arn = serviceArn(str(p.serviceName) ?? "");
      const tagged = Array.isArray(p.tags) && p.tags.length > 0;
      return {
        requests: [
          { action: "ecs:CreateService", resource: arn, context: cluster },
          ...(tagged ? [{ action: "ecs:TagResource", resource: arn }] : []),
        ],
      };
    }
    case "DeleteService":
      return only("ecs:DeleteService", serviceArn(str(p.service) ?? ""), cluster);
    case "ListServices":
      return only("ecs:ListServices", "*", cluster);
    case "TagResource":
    case "UntagResource":
    case "ListTagsForResource":
      return only(`ecs:${op}`, str(p.resourceArn) ?? "*");
    case "DescribeServices":
      return {
        requests: strs(p.services).map((s) => ({
          action: "ecs:DescribeServices",
          resource: serviceArn(s),
          context: cluster,
        })),
      };
    case "ListTasks":
      return only("ecs:ListTasks", `${base}:container-instance/${clusterName}/*`, cluster);
    case "DescribeTasks":
      return {
        requests: strs(p.tasks).map((t) => ({
          action: "ecs:DescribeTasks",
          resource: t.startsWith("arn:") ? t : `${base}:task/${clusterName}/${t}`,
          context: cluster,
        })),
      };
    default:
      return actionOnly(`ecs:${op}`, "no resource mapping for this ECS operation");
  }
}

function ecr(op: string, p: Params, w: Where): Derived {
  if (op === "GetAuthorizationToken") return only("ecr:GetAuthorizationToken");
  const name = str(p.repositoryName);
  if (!name) return actionOnly(`ecr:${op}`, "no repositoryName");
  return only(`ecr:${op}`, `arn:aws:ecr:${w.region}:${str(p.registryId) ?? w.account}:repository/${name}`);
}

/** CloudWatch: alarms by name (DescribeAlarms by its names or prefix) and dashboards. */
function cloudwatch(op: string, p: Params, w: Where): Derived {
  const alarm = (name: string) => `arn:aws:cloudwatch:${w.region}:${w.account}:alarm:${name}`;
  const action = `cloudwatch:${op}`;
  switch (op) {
    case "PutMetricAlarm":
    case "PutCompositeAlarm":
    case "SetAlarmState":
      return only(action, alarm(str(p.AlarmName) ?? ""));
    case "DeleteAlarms":
      return { requests: strs(p.AlarmNames).map((n) => ({ action, resource: alarm(n) })) };
    case "DescribeAlarms": {
      const names = strs(p.AlarmNames);
      if (names.length > 0) return { requests: names.map((n) => ({ action, resource: alarm(n) })) };
      // A prefix asks for the alarms it can return: evaluated as the pattern of those names.
      return only(action, alarm(`${str(p.AlarmNamePrefix) ?? ""}*`));
    }
    case "ListTagsForResource":
    case "TagResource":
    case "UntagResource":
      return only(action, str(p.ResourceARN) ?? "*");
    case "PutDashboard":
    case "GetDashboard":
    case "DeleteDashboards":
      return {
        requests: [str(p.DashboardName), ...strs(p.DashboardNames)]
          .filter((n): n is string => Boolean(n))
          .map((n) => ({ action, resource: `arn:aws:cloudwatch::${w.account}:dashboard/${n}` })),
      };
    default:
      return actionOnly(action, "no resource mapping for this CloudWatch operation");
  }
}

const LAMBDA_ROUTES: Array<[string, RegExp, string]> = [
  ["GET", /^\/functions\/([^/]+)\/aliases\/([^/]+)$/, "GetAlias"],
  ["PUT", /^\/functions\/([^/]+)\/aliases\/([^/]+)$/, "UpdateAlias"],
  ["POST", /^\/functions\/([^/]+)\/aliases\/?$/, "CreateAlias"],
  ["GET", /^\/functions\/([^/]+)\/configuration$/, "GetFunctionConfiguration"],
  ["PUT", /^\/functions\/([^/]+)\/configuration$/, "UpdateFunctionConfiguration"],
  ["PUT", /^\/functions\/([^/]+)\/code$/, "UpdateFunctionCode"],
  ["POST", /^\/functions\/([^/]+)\/versions$/, "PublishVersion"],
  ["GET", /^\/functions\/([^/]+)\/versions$/, "ListVersionsByFunction"],
  ["GET", /^\/functions\/([^/]+)$/, "GetFunction"],
  ["POST", /^\/functions\/?$/, "CreateFunction"],
  ["GET", /^\/event-source-mappings\/?$/, "ListEventSourceMappings"],
  ["POST", /^\/event-source-mappings\/?$/, "CreateEventSourceMapping"],
  ["GET", /^\/event-source-mappings\/([^/]+)$/, "GetEventSourceMapping"],
  ["PUT", /^\/event-source-mappings\/([^/]+)$/, "UpdateEventSourceMapping"],
  ["DELETE", /^\/event-source-mappings\/([^/]+)$/, "DeleteEventSourceMapping"],
  ["DELETE", /^\/functions\/([^/]+)$/, "DeleteFunction"],
  ["GET", /^\/tags\/(.+)$/, "ListTags"],
  ["POST", /^\/tags\/(.+)$/, "TagResource"],
];

/** A Lambda REST path as the operation and the function (or mapping) it names. */
export function lambdaRoute(method: string, path: string) {
  const rest = path.replace(/^\/\d{4}-\d{2}-\d{2}/, "");
  for (const [m, pattern, operation] of LAMBDA_ROUTES) {
    const match = method === m ? rest.match(pattern) : null;
    if (match) return { operation, target: match[1] ? decodeURIComponent(match[1]) : undefined };
  }
  return undefined;
}

/** The ARN of a function named by name, partial ARN or ARN (qualifier kept when `qualified`). */
function functionArn(target: string, w: Where, qualifier?: string): string {
  let name = target;
  let q = qualifier;
  if (target.startsWith("arn:")) {
    const parts = target.split(":");
    name = parts[6]!;
    q ??= parts[7];
  } else if (/^\d{12}:function:/.test(target)) {
    const parts = target.split(":");
    name = parts[2]!;
    q ??= parts[3];
  } else if (target.includes(":")) {
    [name, q] = [target.split(":")[0]!, q ?? target.split(":")[1]];
  }
  return `arn:aws:lambda:${w.region}:${w.account}:function:${name}${q ? `:${q}` : ""}`;
}

/** Lambda: which operations act on the function itself (AWS wants the unqualified ARN there). */
const UNQUALIFIED = new Set([
  "GetAlias",
  "UpdateAlias",
  "CreateAlias",
  "UpdateFunctionCode",
  "PublishVersion",
]);

function lambda(exchange: AwsExchange, w: Where, mappings: Map<string, string>): { name: string } & Derived {
  const url = new URL(exchange.url, "http://aws");
  const route = lambdaRoute(exchange.method, url.pathname);
  if (!route)
    return { name: `${exchange.method} ${url.pathname}`, ...actionOnly("lambda:*", "unknown route") };
  const action = `lambda:${route.operation}`;
  const name = route.operation;
  switch (route.operation) {
    case "ListEventSourceMappings":
      return { name, ...only(action) };
    case "CreateEventSourceMapping": {
      // Authorised on the function the mapping will invoke (lambda:FunctionArn), qualifier included.
      const fn = str(requestParams(exchange).FunctionName);
      return { name, ...only(action, "*", fn ? { "lambda:FunctionArn": functionArn(fn, w) } : {}) };
    }
    case "CreateFunction": {
      // The execution role is passed to Lambda: IAM checks iam:PassRole too.
      const params = requestParams(exchange);
      const role = str(params.Role);
      return {
        name,
        requests: [
          { action, resource: functionArn(str(params.FunctionName) ?? "", w) },
          ...(role
            ? [
                {
                  action: "iam:PassRole",
                  resource: role,
                  context: { "iam:PassedToService": "lambda.amazonaws.com" },
                },
              ]
            : []),
        ],
      };
    }
    case "ListTags":
    case "TagResource":
      return { name, ...only(action, route.target!) };
    case "GetEventSourceMapping":
    case "DeleteEventSourceMapping":
    case "UpdateEventSourceMapping": {
      const fn = mappings.get(route.target!);
      const resource = `arn:aws:lambda:${w.region}:${w.account}:event-source-mapping:${route.target}`;
      // lambda:FunctionArn is the mapping's function: known from an answer that listed the mapping.
      return { name, ...only(action, resource, fn ? { "lambda:FunctionArn": fn } : {}) };
    }
    default: {
      const qualifier = UNQUALIFIED.has(route.operation)
        ? undefined
        : (url.searchParams.get("Qualifier") ?? undefined);
      const arn = functionArn(route.target!, w, qualifier);
      return {
        name,
        ...only(action, UNQUALIFIED.has(route.operation) ? arn.split(":").slice(0, 7).join(":") : arn),
      };
    }
  }
}

/**
 * KMS: the key's ARN. A key named by alias is authorised as the key the alias points to, which the
 * call's own answer names (KeyMetadata.Arn, or KeyId: an ARN, or a bare key id, as moto answers), or
 * an earlier answer for the same alias did.
 */
function kms(op: string, p: Params, answer: string, w: Where, keys: Map<string, string>): Derived {
  const action = `kms:${op}`;
  const keyId = str(p.KeyId) ?? "";
  const answered = jsonObject(answer);
  const named = [str((answered.KeyMetadata as Params | undefined)?.Arn), str(answered.KeyId), keyId];
  const arn = named
    .map((id) => {
      if (!id) return undefined;
      if (/^arn:aws[a-z-]*:kms:[^:]+:\d{12}:key\//.test(id)) return id;
      if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id))
        return `arn:aws:kms:${w.region}:${w.account}:key/${id}`;
      return undefined;
    })
    .find(Boolean);
  if (arn && keyId) keys.set(keyId, arn);
  const resource = arn ?? keys.get(keyId);
  return resource
    ? only(action, resource)
    : actionOnly(action, `the key behind ${keyId || "the request"} is unknown`);
}

/** SQS: the queue's ARN from its URL (…/<account>/<name>); batch operations authorise as their single form. */
function sqs(op: string, p: Params, w: Where): Derived {
  const url = str(p.QueueUrl);
  const action = `sqs:${op.replace(/Batch$/, "")}`;
  const queueName = str(p.QueueName);
  if (!url && queueName) {
    const resource = `arn:aws:sqs:${w.region}:${str(p.QueueOwnerAWSAccountId) ?? w.account}:${queueName}`;
    // Tags given to CreateQueue are authorised as sqs:TagQueue too.
    const tagged = op === "CreateQueue" && Object.keys((p.tags as Params | undefined) ?? {}).length > 0;
    return { requests: [{ action, resource }, ...(tagged ? [{ action: "sqs:TagQueue", resource }] : [])] };
  }
  if (!url) return op === "ListQueues" ? only("sqs:ListQueues") : actionOnly(action, "no QueueUrl");
  const [account, name] = new URL(url).pathname.split("/").filter(Boolean).slice(-2);
  return only(action, `arn:aws:sqs:${w.region}:${account ?? w.account}:${name}`);
}

const S3_ACTIONS: Record<string, string> = {
  PutObject: "s3:PutObject",
  UploadPart: "s3:PutObject",
  CreateMultipartUpload: "s3:PutObject",
  CompleteMultipartUpload: "s3:PutObject",
  CopyObject: "s3:PutObject",
  GetObject: "s3:GetObject",
  HeadObject: "s3:GetObject",
  DeleteObject: "s3:DeleteObject",
  AbortMultipartUpload: "s3:AbortMultipartUpload",
  GetObjectTagging: "s3:GetObjectTagging",
  PutObjectTagging: "s3:PutObjectTagging",
};

/** S3 (path-style or virtual-hosted): object operations on bucket/key, listing and HeadBucket on the bucket. */
function s3(op: string, exchange: AwsExchange): Derived {
  const url = new URL(exchange.url, "http://aws");
  const host = String(exchange.headers.host ?? "");
  const segments = url.pathname.split("/").slice(1);
  const virtual = /^[a-z0-9.-]+\.(s3[.-]|localhost)/.test(host) && !/^(s3[.-]|localhost)/.test(host);
  const bucket = virtual ? host.split(".")[0]! : decodeURIComponent(segments[0] ?? "");
  const keyPath = (virtual ? segments : segments.slice(1)).join("/");
  const key = (() => {
    try {
      return decodeURIComponent(keyPath);
    } catch {
      return keyPath;
    }
  })();
  const bucketArn = `arn:aws:s3:::${bucket}`;
  switch (op) {
    case "ListObjects":
    case "ListObjectsV2": {
      const prefix = url.searchParams.get("prefix");
      // GET ?versions (ListObjectVersions, which the proxy names a listing) is s3:ListBucketVersions.
      const action = url.searchParams.has("versions") ? "s3:ListBucketVersions" : "s3:ListBucket";
      return only(action, bucketArn, prefix === null ? {} : { "s3:prefix": prefix });
    }
    case "ListObjectVersions": {
      const prefix = url.searchParams.get("prefix");
      return only("s3:ListBucketVersions", bucketArn, prefix === null ? {} : { "s3:prefix": prefix });
    }
    case "HeadBucket":
      return only("s3:ListBucket", bucketArn);
    case "CreateBucket":
      return only("s3:CreateBucket", bucketArn);
    case "DeleteObjects": {
      // Each <Object>: s3:DeleteObject, or s3:DeleteObjectVersion when it names a version.
      const objects = [...exchange.request.toString("utf8").matchAll(/<Object>(.*?)<\/Object>/gs)].map(
        (m) => m[1]!,
      );
      return {
        requests: objects.map((o) => ({
          action: /<VersionId>/.test(o) ? "s3:DeleteObjectVersion" : "s3:DeleteObject",
          resource: `${bucketArn}/${xmlTag(o, "Key") ?? ""}`,
        })),
      };
    }
    default: {
      const action = S3_ACTIONS[op];
      if (!action) return actionOnly(`s3:${op}`, "no mapping for this S3 operation");
      const requests: AuthorizationRequest[] = [{ action, resource: `${bucketArn}/${key}` }];
      const source = exchange.headers["x-amz-copy-source"];
      if (op === "CopyObject" && typeof source === "string")
        requests.push({
          action: "s3:GetObject",
          resource: `arn:aws:s3:::${decodeURIComponent(source).replace(/^\//, "")}`,
        });
      return { requests };
    }
  }
}

/**
 * ELB (v2): the Describe calls have no resource-level permissions; what changes something is decided on
 * the target group, listener or rule it names (a new one by its name pattern, its id not known yet), and
 * tags given at creation also as elasticloadbalancing:AddTags there.
 */
function elasticLoadBalancing(op: string, p: Params, w: Where): Derived {
  const action = `elasticloadbalancing:${op}`;
  const base = `arn:aws:elasticloadbalancing:${w.region}:${w.account}`;
  const tagged = Object.keys(p).some((key) => key.startsWith("Tags.member."));
  const withTags = (resource: string): Derived => ({
    requests: [
      { action, resource },
      ...(tagged ? [{ action: "elasticloadbalancing:AddTags", resource }] : []),
    ],
  });
  switch (op) {
    case "CreateTargetGroup":
      return withTags(`${base}:targetgroup/${str(p.Name) ?? ""}/*`);
    case "DeleteTargetGroup":
    case "ModifyTargetGroup":
      return only(action, str(p.TargetGroupArn) ?? "*");
    case "CreateRule": {
      const listener = str(p.ListenerArn) ?? "";
      return {
        requests: [
          { action, resource: listener },
          ...(tagged
            ? [
                {
                  action: "elasticloadbalancing:AddTags",
                  resource: `${listener.replace(":listener/", ":listener-rule/")}/*`,
                },
              ]
            : []),
        ],
      };
    }
    case "DeleteRule":
    case "ModifyRule":
      return only(action, str(p.RuleArn) ?? "*");
    case "AddTags":
    case "RemoveTags":
      return { requests: strs(p.ResourceArns).map((resource) => ({ action, resource })) };
    default:
      return only(action);
  }
}

/** Remembers which function each event source mapping in a Lambda answer invokes. */
function learnMappings(answer: string, book: PrincipalBook) {
  const parsed = jsonObject(answer);
  for (const mapping of [parsed, ...((parsed.EventSourceMappings as Params[] | undefined) ?? [])]) {
    const uuid = str(mapping.UUID);
    const fn = str(mapping.FunctionArn);
    if (uuid && fn) book.mappings.set(uuid, fn);
  }
}

/** The IAM service prefix of a SigV4 signing name. */
const IAM_PREFIX: Record<string, string> = { monitoring: "cloudwatch" };

/** Who stands behind each access key, learnt from STS answers on the same wire. */
export class PrincipalBook {
  /** access key → role ARN, and whether calls with it are checked. */
  readonly #keys = new Map<string, { principal: string; checked: boolean }>();
  /** event source mapping UUID → the function ARN it invokes. */
  readonly mappings = new Map<string, string>();
  /** KMS KeyId as requested (an alias) → the key's ARN, from answers. */
  readonly kmsKeys = new Map<string, string>();

  constructor(known: Record<string, { principal: string; checked: boolean }> = {}) {
    for (const [key, who] of Object.entries(known)) this.#keys.set(key, who);
  }

  who(accessKeyId: string | undefined): { principal: string; checked: boolean } {
    if (!accessKeyId) return { principal: "unsigned", checked: false };
    return this.#keys.get(accessKeyId) ?? { principal: `harness (${accessKeyId})`, checked: false };
  }

  /**
   * Records the key an STS answer issued: checked when the caller is (or, for web identity, always);
   * a key the harness got for itself is named `harness as <role>`.
   */
  learn(accessKeyId: string, roleArn: string, checked: boolean) {
    this.#keys.set(accessKeyId, { principal: checked ? roleArn : `harness as ${roleArn}`, checked });
  }
}

/**
 * The recorded form of one exchange: who made it, and what IAM authorises for it. STS answers teach
 * `book` the keys they issue; Lambda mapping answers teach it which function each mapping invokes.
 */
export function recordExchange(
  exchange: AwsExchange,
  book: PrincipalBook,
  defaultRegion = "us-east-1",
): RecordedCall {
  const scope = credentialScope(exchange);
  const params = requestParams(exchange);
  const who = book.who(scope?.accessKeyId);
  const region = scope?.region ?? defaultRegion;
  const account = who.principal.startsWith("arn:") ? who.principal.split(":")[4]! : "000000000000";
  const w = { region, account };
  const answer = exchange.answer.toString("utf8");
  const target = exchange.headers["x-amz-target"];
  const op =
    typeof target === "string" && target.includes(".")
      ? target.split(".").pop()!
      : (str(params.Action) ?? exchange.call.operation);
  const service = scope
    ? (IAM_PREFIX[scope.service] ?? scope.service)
    : str(params.Action)?.startsWith("AssumeRole")
      ? "sts"
      : exchange.call.service;
  const base = { principal: who.principal, checked: who.checked };
  const ok = (exchange.call.status ?? 0) >= 200 && (exchange.call.status ?? 0) < 300;
  switch (service) {
    case "sts": {
      const roleArn = str(params.RoleArn) ?? "";
      const issued = xmlTag(answer, "AccessKeyId");
      if (op === "AssumeRoleWithWebIdentity") {
        if (ok && issued) book.learn(issued, roleArn, true);
        const claims = jwtClaims(str(params.WebIdentityToken) ?? "");
        // Unsigned, as AWS takes it: the caller is the token, which the role's trust policy decides.
        return {
          principal: `OIDC token ${String(claims?.sub ?? "(none)")}`,
          checked: true,
          operation: `sts ${op}`,
          requests: [{ action: "sts:AssumeRoleWithWebIdentity", resource: roleArn }],
          ...(claims ? { webIdentityClaims: claims } : {}),
        };
      }
      if (op === "AssumeRole" && ok && issued) book.learn(issued, roleArn, who.checked);
      if (op === "GetCallerIdentity") return { ...base, operation: `sts ${op}`, requests: [] }; // never denied
      return {
        ...base,
        operation: `sts ${op}`,
        requests: [{ action: `sts:${op}`, resource: roleArn || "*" }],
      };
    }
    case "lambda": {
      learnMappings(answer, book);
      const { name, ...derived } = lambda(exchange, w, book.mappings);
      return { ...base, operation: `lambda ${name}`, ...derived };
    }
    case "eks": {
      const name = new URL(exchange.url, "http://aws").pathname.match(/^\/clusters\/([^/]+)$/)?.[1];
      const derived = name
        ? only("eks:DescribeCluster", `arn:aws:eks:${region}:${account}:cluster/${name}`)
        : actionOnly("eks:*", "unknown EKS route");
      return { ...base, operation: `eks ${name ? "DescribeCluster" : exchange.call.operation}`, ...derived };
    }
    case "s3":
      return {
        ...base,
        operation: `s3 ${exchange.call.operation}`,
        ...s3(exchange.call.operation, exchange),
      };
    case "sqs":
      return { ...base, operation: `sqs ${op}`, ...sqs(op, params, w) };
    case "ecs":
      return { ...base, operation: `ecs ${op}`, ...ecs(op, params, w) };
    case "ecr":
      return { ...base, operation: `ecr ${op}`, ...ecr(op, params, w) };
    case "cloudwatch":
      return { ...base, operation: `cloudwatch ${op}`, ...cloudwatch(op, params, w) };
    case "kms":
      return { ...base, operation: `kms ${op}`, ...kms(op, params, answer, w, book.kmsKeys) };
    case "elasticloadbalancing":
      return { ...base, operation: `elasticloadbalancing ${op}`, ...elasticLoadBalancing(op, params, w) };
    default:
      return {
        ...base,
        operation: `${service} ${op}`,
        ...actionOnly(`${service}:${op}`, `no mapping for ${service}`),
      };
  }
}
