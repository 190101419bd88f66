// The AWS resources of one preview environment besides its service and worker: the SQS queues, the
// ALB target group and host-header listener rule on the base's load balancer, and its S3 prefix.
// Each is created or updated idempotently, found again by name (and tag), and deleted without
// complaint when it is already gone.
import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  AddTagsCommand as ElbAddTagsCommand,
  type Listener,
  type Rule,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  type SQSClient,
  TagQueueCommand,
} from "@aws-sdk/client-sqs";
import { type Environment, PREVIEW_TAG, type PreviewNames } from "@content-engine/environments";
import { DeliveryError } from "./errors.ts";

/** ECS / ELB style tags from a record. */
export const keyValueTags = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

const notFound = (error: unknown, ...names: string[]) => {
  const name = (error as Error)?.name ?? "";
  return names.includes(name) || /NonExistent|NotFound|does not exist/i.test(name);
};

// ---------------------------------------------------------------- SQS

export interface PreviewQueues {
  url: string;
  arn: string;
  dlqUrl: string;
  dlqArn: string;
}

async function queueUrl(sqs: SQSClient, name: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (notFound(error, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")) return undefined;
    throw error;
  }
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  return attributes.Attributes!.QueueArn!;
}

/** The tags of the preview's jobs queue, when it exists (what an half-created preview's created-at comes from). */
export async function queueTags(
  sqs: SQSClient,
  names: PreviewNames,
): Promise<Record<string, string> | undefined> {
  const url = await queueUrl(sqs, names.queue);
  if (!url) return undefined;
  return (await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {};
}

/** The jobs queue and its DLQ (redrive after as many receives as the base's), created or re-tagged. */
export async function ensureQueues(
  sqs: SQSClient,
  names: PreviewNames,
  tags: Record<string, string>,
  maxReceiveCount = 3,
): Promise<PreviewQueues> {
  const ensure = async (name: string, attributes: Record<string, string>) => {
    const existing = await queueUrl(sqs, name);
    if (existing) {
      await sqs.send(new TagQueueCommand({ QueueUrl: existing, Tags: tags }));
      return existing;
    }
    return (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes, tags })))
      .QueueUrl!;
  };
  const dlqUrl = await ensure(names.dlq, { MessageRetentionPeriod: "1209600" });
  const dlqArn = await queueArn(sqs, dlqUrl);
  const url = await ensure(names.queue, {
    VisibilityTimeout: "360",
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
  });
  return { url, arn: await queueArn(sqs, url), dlqUrl, dlqArn };
}

/** The preview's queues that exist, by name. */
export async function existingQueues(sqs: SQSClient, names: PreviewNames): Promise<string[]> {
  const found: string[] = [];
  for (const name of [names.queue, names.dlq]) if (await queueUrl(sqs, name)) found.push(name);
  return found;
}

export async function deleteQueues(sqs: SQSClient, names: PreviewNames): Promise<string[]> {
  const deleted: string[] = [];
  for (const name of [names.queue, names.dlq]) {
    const url = await queueUrl(sqs, name);
    if (!url) continue;
    try {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
      deleted.push(`queue ${name}`);
    } catch (error) {
      if (!notFound(error, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")) throw error;
    }
  }
  return deleted;
}

/** The queue ARN the preview's event source mapping reads (without creating anything). */
export async function existingQueueArn(sqs: SQSClient, names: PreviewNames): Promise<string | undefined> {
  const url = await queueUrl(sqs, names.queue);
  return url ? queueArn(sqs, url) : undefined;
}

// ---------------------------------------------------------------- ALB

/** The base's load balancer listener previews get their rules on: HTTPS 443, else the first. */
export async function baseListener(elb: ElasticLoadBalancingV2Client, base: Environment): Promise<Listener> {
  let arn: string | undefined;
  try {
    const described = await elb.send(new DescribeLoadBalancersCommand({ Names: [base.api.loadBalancer] }));
    arn = described.LoadBalancers?.[0]?.LoadBalancerArn;
  } catch (error) {
    if (!notFound(error, "LoadBalancerNotFoundException", "LoadBalancerNotFound")) throw error;
  }
  if (!arn)
    throw new DeliveryError(
      `load balancer "${base.api.loadBalancer}" of ${base.name} does not exist (api.loadBalancer): previews add their rules to its listener`,
    );
  const listeners = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: arn }))).Listeners ?? [];
  const listener = listeners.find((l) => l.Port === 443) ?? listeners[0];
  if (!listener)
    throw new DeliveryError(
      `load balancer "${base.api.loadBalancer}" has no listener to add preview rules to`,
    );
  return listener;
}

export async function findTargetGroup(
  elb: ElasticLoadBalancingV2Client,
  name: string,
): Promise<TargetGroup | undefined> {
  try {
    return (await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups?.[0];
  } catch (error) {
    if (notFound(error, "TargetGroupNotFoundException", "TargetGroupNotFound")) return undefined;
    throw error;
  }
}

/** The preview's target group, shaped like the base's (VPC, protocol, port, target type, health check). */
export async function ensureTargetGroup(
  elb: ElasticLoadBalancingV2Client,
  base: Environment,
  names: PreviewNames,
  tags: Record<string, string>,
): Promise<string> {
  const existing = await findTargetGroup(elb, names.targetGroup);
  if (existing?.TargetGroupArn) {
    await elb.send(
      new ElbAddTagsCommand({ ResourceArns: [existing.TargetGroupArn], Tags: keyValueTags(tags) }),
    );
    return existing.TargetGroupArn;
  }
  const shape = await findTargetGroup(elb, base.api.targetGroup);
  if (!shape)
    throw new DeliveryError(
      `target group "${base.api.targetGroup}" of ${base.name} does not exist (api.targetGroup): a preview's target group copies its shape`,
    );
  const created = await elb.send(
    new CreateTargetGroupCommand({
      Name: names.targetGroup,
      Protocol: shape.Protocol,
      Port: shape.Port,
      VpcId: shape.VpcId,
      TargetType: shape.TargetType,
      HealthCheckProtocol: shape.HealthCheckProtocol,
      HealthCheckPath: shape.HealthCheckPath,
      HealthCheckPort: shape.HealthCheckPort,
      HealthCheckIntervalSeconds: shape.HealthCheckIntervalSeconds,
      HealthCheckTimeoutSeconds: shape.HealthCheckTimeoutSeconds,
      HealthyThresholdCount: shape.HealthyThresholdCount,
      UnhealthyThresholdCount: shape.UnhealthyThresholdCount,
      Matcher: shape.Matcher,
      Tags: keyValueTags(tags),
    }),
  );
  return created.TargetGroups![0]!.TargetGroupArn!;
}

export async function deleteTargetGroup(elb: ElasticLoadBalancingV2Client, names: PreviewNames) {
  const existing = await findTargetGroup(elb, names.targetGroup);
  if (!existing?.TargetGroupArn) return [];
  try {
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: existing.TargetGroupArn }));
  } catch (error) {
    if (!notFound(error, "TargetGroupNotFoundException")) throw error;
  }
  return [`target group ${names.targetGroup}`];
}

const ruleHosts = (rule: Rule) =>
  (rule.Conditions ?? []).flatMap((c) =>
    c.Field === "host-header" ? [...(c.HostHeaderConfig?.Values ?? []), ...(c.Values ?? [])] : [],
  );

/** The listener rules of the preview: its host header, or its preview tag. */
export async function findRules(
  elb: ElasticLoadBalancingV2Client,
  listenerArn: string,
  names: PreviewNames,
): Promise<Rule[]> {
  const rules: Rule[] = [];
  let marker: string | undefined;
  do {
    const page = await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }));
    rules.push(...(page.Rules ?? []).filter((r) => !r.IsDefault));
    marker = page.NextMarker;
  } while (marker);
  const tagged = new Set<string>();
  for (let i = 0; i < rules.length; i += 20) {
    const arns = rules.slice(i, i + 20).map((r) => r.RuleArn!);
    const described = await elb.send(new DescribeTagsCommand({ ResourceArns: arns }));
    for (const description of described.TagDescriptions ?? [])
      if (description.Tags?.some((t) => t.Key === PREVIEW_TAG && t.Value === names.name))
        tagged.add(description.ResourceArn!);
  }
  return rules.filter(
    (rule) => tagged.has(rule.RuleArn!) || (names.host !== undefined && ruleHosts(rule).includes(names.host)),
  );
}

/** The host-header rule forwarding https://pr-<n>.<domain> to the preview's target group. */
export async function ensureRule(
  elb: ElasticLoadBalancingV2Client,
  listenerArn: string,
  names: PreviewNames,
  targetGroupArn: string,
  tags: Record<string, string>,
): Promise<string> {
  if (!names.host)
    throw new DeliveryError("a preview's listener rule needs previews.domain of the base file");
  const [existing] = await findRules(elb, listenerArn, names);
  if (existing?.RuleArn) {
    await elb.send(new ElbAddTagsCommand({ ResourceArns: [existing.RuleArn], Tags: keyValueTags(tags) }));
    return existing.RuleArn;
  }
  const all = (await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn }))).Rules ?? [];
  const taken = new Set(all.map((r) => Number(r.Priority)).filter(Number.isFinite));
  // Previews take priorities from 1000 up, below anything terraform puts first.
  let priority = 1000 + (names.number % 1000);
  while (taken.has(priority)) priority += 1;
  const created = await elb.send(
    new CreateRuleCommand({
      ListenerArn: listenerArn,
      Priority: priority,
      Conditions: [{ Field: "host-header", HostHeaderConfig: { Values: [names.host] } }],
      Actions: [{ Type: "forward", TargetGroupArn: targetGroupArn }],
      Tags: keyValueTags(tags),
    }),
  );
  return created.Rules![0]!.RuleArn!;
}

export async function deleteRules(elb: ElasticLoadBalancingV2Client, base: Environment, names: PreviewNames) {
  let listener: Listener;
  try {
    listener = await baseListener(elb, base);
  } catch (error) {
    if (error instanceof DeliveryError) return [];
    throw error;
  }
  const deleted: string[] = [];
  for (const rule of await findRules(elb, listener.ListenerArn!, names)) {
    try {
      await elb.send(new DeleteRuleCommand({ RuleArn: rule.RuleArn }));
      deleted.push(`listener rule ${ruleHosts(rule).join(", ") || rule.RuleArn}`);
    } catch (error) {
      if (!notFound(error, "RuleNotFoundException")) throw error;
    }
  }
  return deleted;
}

// ---------------------------------------------------------------- S3

/** Every object version (and delete marker) under the preview's prefix of the base bucket. */
async function objectVersions(s3: S3Client, bucket: string, prefix: string) {
  const found: Array<{ Key: string; VersionId?: string }> = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionMarker,
      }),
    );
    for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])])
      if (v.Key) found.push({ Key: v.Key, VersionId: v.VersionId ?? undefined });
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
  return found;
}

/** Deletes everything under the prefix (every version, so a versioned bucket keeps nothing either). */
export async function deleteObjects(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  if (!prefix.endsWith("/") || prefix.length < 3)
    throw new DeliveryError(`refusing to delete under "${prefix}": not a preview prefix`);
  const versions = await objectVersions(s3, bucket, prefix).catch(noBucket);
  for (let i = 0; i < versions.length; i += 1000) {
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: {
          Quiet: true,
          Objects: versions
            .slice(i, i + 1000)
            .map((v) => (v.VersionId && v.VersionId !== "null" ? v : { Key: v.Key })),
        },
      }),
    );
    if (out.Errors?.length)
      throw new DeliveryError(
        `could not delete ${out.Errors.length} objects under s3://${bucket}/${prefix}: ${out.Errors[0]!.Key} ${out.Errors[0]!.Message}`,
      );
  }
  return versions.length ? [`${versions.length} objects under s3://${bucket}/${prefix}`] : [];
}

/** How many objects (current or not) are left under the prefix; at most a page is counted. */
export async function countObjects(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  const current = await s3
    .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000 }))
    .catch(noBucket);
  const versions = await objectVersions(s3, bucket, prefix).catch(noBucket);
  return Math.max(Array.isArray(current) ? 0 : (current.KeyCount ?? 0), versions.length);
}

/** A bucket that does not exist holds nothing under any prefix. */
function noBucket(error: unknown): never[] {
  if ((error as Error)?.name === "NoSuchBucket") return [];
  throw error;
}
