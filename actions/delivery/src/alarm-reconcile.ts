// Reconciles one environment's generated CloudWatch alarms (alarms/generated/<env>/cloudwatch-alarms.json)
// with the live ones under its name prefix: plan (create, update, adopt, delete, leave alone) and apply.
import { join } from "node:path";
import {
  type CloudWatchClient,
  type CompositeAlarm,
  DeleteAlarmsCommand,
  ListTagsForResourceCommand,
  type MetricAlarm,
  PutCompositeAlarmCommand,
  type PutCompositeAlarmCommandInput,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
  paginateDescribeAlarms,
  TagResourceCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  ALB_REFERENCE,
  type AlbReferenceKind,
  alarmNamePrefix,
  type Environment,
  environmentSource,
} from "@content-engine/environments";
import { DeliveryError, explainAwsError } from "./errors.ts";
import { readGeneratedJson } from "./generated.ts";
import type { PlannedChange } from "./outcome.ts";

export const MANAGED_BY = { Key: "managed-by", Value: "content-engine/alarms" } as const;

export interface GeneratedAlarms {
  namePrefix: string;
  metricAlarms: PutMetricAlarmCommandInput[];
  compositeAlarms: PutCompositeAlarmCommandInput[];
}

export type AlarmAction = "create" | "update" | "adopt" | "delete";
export type AlarmKind = "metric" | "composite";

export interface AlarmChange {
  name: string;
  action: AlarmAction;
  kind: AlarmKind;
  /** Known for alarms that exist (update, adopt, delete). */
  arn?: string;
  fields: PlannedChange[];
}

export interface LiveAlarm {
  name: string;
  arn: string;
  kind: AlarmKind;
  managed: boolean;
  alarm: MetricAlarm | CompositeAlarm;
}

export interface AlarmPlan {
  changes: AlarmChange[];
  /** Alarms under the prefix that are not tagged as ours: never touched. */
  leftAlone: string[];
}

/** Reads the committed output of alarms/ for one environment, refusing another environment's prefix. */
export function loadGeneratedAlarms(env: Environment, alarmsDir: string): GeneratedAlarms {
  const desired = readGeneratedJson<GeneratedAlarms>(
    join(alarmsDir, env.name, "cloudwatch-alarms.json"),
    "generated alarms",
  );
  const prefix = alarmNamePrefix(env);
  if (desired.namePrefix !== prefix) {
    throw new DeliveryError(
      `generated alarms use prefix ${desired.namePrefix}, but ${environmentSource(env)} gives ${prefix}: run npm run generate`,
    );
  }
  for (const a of [...desired.metricAlarms, ...desired.compositeAlarms]) {
    if (!a.AlarmName?.startsWith(prefix))
      throw new DeliveryError(`generated alarm ${a.AlarmName} is outside the prefix ${prefix}`);
  }
  return desired;
}

/** Resolves ALB references by name to the ids CloudWatch uses, one ELBv2 call per name. */
export type AlbLookup = (kind: AlbReferenceKind, name: string) => Promise<string>;

export function albLookup(elb: ElasticLoadBalancingV2Client, env: Environment): AlbLookup {
  const cache = new Map<string, Promise<string>>();
  const describe = async (kind: AlbReferenceKind, name: string): Promise<string> => {
    let arn: string | undefined;
    try {
      arn =
        kind === "alb"
          ? (await elb.send(new DescribeLoadBalancersCommand({ Names: [name] }))).LoadBalancers?.[0]
              ?.LoadBalancerArn
          : (await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups?.[0]
              ?.TargetGroupArn;
    } catch (error) {
      if (!/NotFound/.test((error as Error).name)) throw explainAwsError(error);
    }
    if (!arn) {
      throw new DeliveryError(
        `${kind === "alb" ? "load balancer" : "target group"} ${name} does not exist in ${env.region}: the ALB alarms and dashboard widgets of ${env.name} need it (terraform creates it)`,
      );
    }
    // CloudWatch's dimension values: app/<name>/<id> and targetgroup/<name>/<id>.
    return kind === "alb"
      ? arn.slice(arn.indexOf(":loadbalancer/") + ":loadbalancer/".length)
      : arn.slice(arn.lastIndexOf(":") + 1);
  };
  return (kind, name) => {
    const key = `${kind}:${name}`;
    let value = cache.get(key);
    if (!value) {
      value = describe(kind, name);
      cache.set(key, value);
    }
    return value;
  };
}

/** The text with every `{{alb:name}}` / `{{targetgroup:name}}` replaced by the id CloudWatch uses. */
export async function resolveAlbReferences(text: string, lookup: AlbLookup): Promise<string> {
  const found = [...text.matchAll(ALB_REFERENCE)];
  const values = await Promise.all(found.map((m) => lookup(m[1] as AlbReferenceKind, m[2]!)));
  let i = 0;
  return text.replace(ALB_REFERENCE, () => values[i++]!);
}

/** Replaces `{{alb:name}}` / `{{targetgroup:name}}` dimension values with the ids CloudWatch uses. */
export async function resolveAlarmReferences(alarms: GeneratedAlarms, lookup: AlbLookup): Promise<void> {
  const resolveDimensions = async (dimensions: Array<{ Name?: string; Value?: string }> | undefined) => {
    for (const d of dimensions ?? []) {
      if (d.Value !== undefined) d.Value = await resolveAlbReferences(d.Value, lookup);
    }
  };
  for (const alarm of alarms.metricAlarms) {
    await resolveDimensions(alarm.Dimensions);
    for (const query of alarm.Metrics ?? []) await resolveDimensions(query.MetricStat?.Metric?.Dimensions);
  }
}

/** Every alarm under the prefix, metric and composite, with whether it carries our managed-by tag. */
export async function readLiveAlarms(cloudwatch: CloudWatchClient, prefix: string): Promise<LiveAlarm[]> {
  const live: LiveAlarm[] = [];
  const pages = paginateDescribeAlarms(
    { client: cloudwatch },
    { AlarmNamePrefix: prefix, AlarmTypes: ["MetricAlarm", "CompositeAlarm"] },
  );
  for await (const page of pages) {
    for (const [kind, alarms] of [
      ["metric", page.MetricAlarms ?? []],
      ["composite", page.CompositeAlarms ?? []],
    ] as const) {
      for (const alarm of alarms)
        live.push({ name: alarm.AlarmName!, arn: alarm.AlarmArn!, kind, managed: false, alarm });
    }
  }
  for (const alarm of live) {
    const tags = await cloudwatch.send(new ListTagsForResourceCommand({ ResourceARN: alarm.arn }));
    alarm.managed = (tags.Tags ?? []).some((t) => t.Key === MANAGED_BY.Key && t.Value === MANAGED_BY.Value);
  }
  return live;
}

/** Fields of a Put*Alarm input that DescribeAlarms reads back (Tags are compared by the managed-by tag only). */
const COMPARED = new Set([
  "AlarmDescription",
  "AlarmRule",
  "ActionsEnabled",
  "AlarmActions",
  "OKActions",
  "InsufficientDataActions",
  "Namespace",
  "MetricName",
  "Dimensions",
  "Statistic",
  "ExtendedStatistic",
  "Period",
  "Metrics",
  "EvaluationPeriods",
  "DatapointsToAlarm",
  "Threshold",
  "ComparisonOperator",
  "TreatMissingData",
]);

/**
 * The live value shaped like the desired one: only what the generated input states is compared (the
 * generator states every field it means, so no CloudWatch default has to be restated here), lists of
 * names compared as sets, dimensions by name, and a metric query's `MetricStat` field by field.
 */
function shapedLike(live: unknown, desired: unknown): unknown {
  if (Array.isArray(desired)) {
    const have = Array.isArray(live) ? live : [];
    if (desired.every((d) => typeof d === "string")) return [...have].sort();
    const key = (d: { Name?: string; Id?: string }) => d.Name ?? d.Id ?? "";
    const byKey = new Map(have.map((h: { Name?: string; Id?: string }) => [key(h), h]));
    return desired.map((d: { Name?: string; Id?: string }) => shapedLike(byKey.get(key(d)), d));
  }
  if (desired !== null && typeof desired === "object") {
    const have = (live ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(desired).map(([k, v]) => [k, shapedLike(have[k], v)] as const));
  }
  return live;
}

function normalised(desired: unknown): unknown {
  return shapedLike(desired, desired);
}

function comparedFields(input: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([k]) => COMPARED.has(k)));
}

function fieldChanges(
  name: string,
  from: Record<string, unknown> | undefined,
  to: Record<string, unknown> | undefined,
): PlannedChange[] {
  const keys = new Set([...Object.keys(from ?? {}), ...Object.keys(to ?? {})]);
  const show = (v: unknown) => (v === undefined ? undefined : JSON.stringify(v));
  return [...keys]
    .filter((key) => show(from?.[key]) !== show(to?.[key]))
    .map((key) => ({ field: `${name} ${key}`, from: show(from?.[key]), to: show(to?.[key]) }));
}

/** What reconciling would do: create, update, adopt (same name, not tagged ours) and delete. */
export function diffAlarms(desired: GeneratedAlarms, live: LiveAlarm[]): AlarmPlan {
  const byName = new Map(live.map((a) => [a.name, a]));
  const changes: AlarmChange[] = [];
  const wanted = [
    ...desired.metricAlarms.map((input) => ({ input, kind: "metric" as const })),
    ...desired.compositeAlarms.map((input) => ({ input, kind: "composite" as const })),
  ];
  for (const { input, kind } of wanted) {
    const name = input.AlarmName!;
    const want = normalised(comparedFields(input)) as Record<string, unknown>;
    const have = byName.get(name);
    if (!have) {
      changes.push({ name, action: "create", kind, fields: fieldChanges(name, undefined, want) });
      continue;
    }
    const shaped = have.kind === kind ? (shapedLike(have.alarm, want) as Record<string, unknown>) : {};
    const fields = fieldChanges(name, shaped, want);
    if (!have.managed) changes.push({ name, action: "adopt", kind, arn: have.arn, fields });
    else if (fields.length > 0) changes.push({ name, action: "update", kind, arn: have.arn, fields });
  }
  const wantedNames = new Set(wanted.map((w) => w.input.AlarmName));
  const leftAlone: string[] = [];
  for (const have of live) {
    if (wantedNames.has(have.name)) continue;
    if (!have.managed) {
      leftAlone.push(have.name);
      continue;
    }
    const fields = fieldChanges(have.name, comparedFields(have.alarm), undefined);
    changes.push({ name: have.name, action: "delete", kind: have.kind, arn: have.arn, fields });
  }
  return { changes, leftAlone };
}

/** Applies a plan: metric alarms, then the composites that name them, then tags, then deletions. */
export async function applyAlarmChanges(
  cloudwatch: CloudWatchClient,
  env: Environment,
  desired: GeneratedAlarms,
  changes: AlarmChange[],
): Promise<void> {
  const puts = new Set(changes.filter((c) => c.action !== "delete").map((c) => c.name));
  try {
    // Composites in generated order: their members come first.
    for (const alarm of desired.metricAlarms.filter((a) => puts.has(a.AlarmName!)))
      await cloudwatch.send(new PutMetricAlarmCommand(alarm));
    for (const alarm of desired.compositeAlarms.filter((a) => puts.has(a.AlarmName!)))
      await cloudwatch.send(new PutCompositeAlarmCommand(alarm));
    // Put*Alarm does not change the tags of an alarm that exists: adopting tags it by its known ARN.
    for (const change of changes.filter((c) => c.action === "adopt")) {
      await cloudwatch.send(
        new TagResourceCommand({
          ResourceARN: change.arn!,
          Tags: [{ ...MANAGED_BY }, { Key: "environment", Value: env.name }],
        }),
      );
    }
    // Composites first: CloudWatch refuses to delete a metric alarm a composite still names.
    for (const kind of ["composite", "metric"] as const) {
      const names = changes.filter((c) => c.action === "delete" && c.kind === kind).map((c) => c.name);
      for (let i = 0; i < names.length; i += 100)
        await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: names.slice(i, i + 100) }));
    }
  } catch (error) {
    throw explainAwsError(error);
  }
}
