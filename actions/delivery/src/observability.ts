// observability-apply: reconcile one environment's generated alarms with CloudWatch and publish its
// dashboards (Grafana's HTTP API and a CloudWatch dashboard). Reads only the committed output of
// alarms/ and dashboards/ (`alarms/generated`, `dashboards/generated`).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandOutput,
  GetDashboardCommand,
  ListTagsForResourceCommand,
  type MetricAlarm,
  PutCompositeAlarmCommand,
  type PutCompositeAlarmCommandInput,
  PutDashboardCommand,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
  TagResourceCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { alarmNamePrefix, type Environment } from "@content-engine/environments";
import { type AwsOptions, createClient } from "./aws.ts";
import { DeliveryError, explainAwsError } from "./errors.ts";
import { finish, type Outcome, type Plan, type PlannedChange, Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";

export const MANAGED_BY = { Key: "managed-by", Value: "content-engine/alarms" } as const;

export interface GrafanaTarget {
  /** Base URL, e.g. https://grafana.example.com */
  url: string;
  /** Service-account token (sent as a Bearer token; masked before anything prints). */
  token: string;
  /** Folder the dashboards go to; empty: the General folder. */
  folderUid?: string;
}

export interface ObservabilityOptions {
  env: Environment;
  /** Folder with `<env>/cloudwatch-alarms.json` (default alarms/generated in the working directory). */
  alarmsDir?: string;
  /** Folder with `grafana/<env>-*.json` and `cloudwatch/<env>.json` (default dashboards/generated). */
  dashboardsDir?: string;
  grafana?: GrafanaTarget;
  /**
   * Post a Grafana annotation marking this deploy (image tag and digest of the environment file),
   * with the tags the generated dashboards' "Deploys" annotation shows. Needs `grafana`.
   */
  deployMarker?: boolean;
  /** Publish the CloudWatch dashboard too (default true). */
  cloudwatchDashboard?: boolean;
  aws?: Partial<AwsOptions>;
  cloudwatch?: CloudWatchClient;
  elb?: ElasticLoadBalancingV2Client;
  /** HTTP client for Grafana (default global fetch). */
  fetch?: typeof fetch;
  reporter?: Reporter;
}

interface GeneratedAlarms {
  namePrefix: string;
  metricAlarms: PutMetricAlarmCommandInput[];
  compositeAlarms: PutCompositeAlarmCommandInput[];
}

type AlarmAction = "create" | "update" | "adopt" | "delete";
interface AlarmChange {
  name: string;
  action: AlarmAction;
  kind: "metric" | "composite";
  fields: PlannedChange[];
}

interface LiveAlarm {
  name: string;
  arn: string;
  kind: "metric" | "composite";
  managed: boolean;
  comparable: Record<string, unknown>;
}

interface DashboardChange {
  where: "grafana" | "grafana folder" | "cloudwatch";
  name: string;
  action: "create" | "update";
  publish: () => Promise<void>;
}

function readJson<T>(file: string, what: string): T {
  if (!existsSync(file))
    throw new DeliveryError(`${what} ${file} does not exist: run npm run generate and commit`);
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

function clients(options: ObservabilityOptions) {
  const aws: AwsOptions = { region: options.env.region, ...options.aws };
  return {
    cloudwatch: options.cloudwatch ?? createClient(CloudWatchClient, aws),
    elb: options.elb ?? createClient(ElasticLoadBalancingV2Client, aws),
  };
}

const REF = /\{\{(alb|targetgroup):([^}]+)\}\}/;

/** Replaces `{{alb:name}}` / `{{targetgroup:name}}` dimension values with the ids CloudWatch uses. */
async function resolveReferences(
  elb: ElasticLoadBalancingV2Client,
  alarms: GeneratedAlarms,
  env: Environment,
) {
  const cache = new Map<string, string>();
  const lookup = async (kind: string, name: string): Promise<string> => {
    const key = `${kind}:${name}`;
    const known = cache.get(key);
    if (known) return known;
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
        `${kind === "alb" ? "load balancer" : "target group"} ${name} does not exist in ${env.region}: the ALB alarms of ${env.name} need it (terraform creates it)`,
      );
    }
    // CloudWatch's dimension values: app/<name>/<id> and targetgroup/<name>/<id>.
    const value =
      kind === "alb"
        ? arn.slice(arn.indexOf(":loadbalancer/") + ":loadbalancer/".length)
        : arn.slice(arn.lastIndexOf(":") + 1);
    cache.set(key, value);
    return value;
  };
  const resolveDimensions = async (dimensions: Array<{ Name?: string; Value?: string }> | undefined) => {
    for (const d of dimensions ?? []) {
      const match = REF.exec(d.Value ?? "");
      if (match) d.Value = await lookup(match[1]!, match[2]!);
    }
  };
  for (const alarm of alarms.metricAlarms) {
    await resolveDimensions(alarm.Dimensions);
    for (const query of alarm.Metrics ?? []) await resolveDimensions(query.MetricStat?.Metric?.Dimensions);
  }
}

const sortDimensions = (dimensions: Array<{ Name?: string; Value?: string }> | undefined) =>
  [...(dimensions ?? [])]
    .map((d) => ({ Name: d.Name, Value: d.Value }))
    .sort((a, b) => String(a.Name).localeCompare(String(b.Name)));

/** The fields both a PutMetricAlarm input and a DescribeAlarms answer carry, in one shape. */
function comparableMetric(a: PutMetricAlarmCommandInput | MetricAlarm): Record<string, unknown> {
  const metrics = (a.Metrics ?? []).map((q) => ({
    Id: q.Id,
    Expression: q.Expression,
    Label: q.Label,
    ReturnData: q.ReturnData ?? true,
    MetricStat: q.MetricStat
      ? {
          Namespace: q.MetricStat.Metric?.Namespace,
          MetricName: q.MetricStat.Metric?.MetricName,
          Dimensions: sortDimensions(q.MetricStat.Metric?.Dimensions),
          Period: q.MetricStat.Period,
          Stat: q.MetricStat.Stat,
        }
      : undefined,
  }));
  return {
    AlarmDescription: a.AlarmDescription ?? "",
    ActionsEnabled: a.ActionsEnabled ?? true,
    AlarmActions: [...(a.AlarmActions ?? [])].sort(),
    OKActions: [...(a.OKActions ?? [])].sort(),
    InsufficientDataActions: [...(a.InsufficientDataActions ?? [])].sort(),
    Namespace: metrics.length ? undefined : a.Namespace,
    MetricName: metrics.length ? undefined : a.MetricName,
    Dimensions: metrics.length ? undefined : sortDimensions(a.Dimensions),
    Statistic: metrics.length ? undefined : a.Statistic,
    ExtendedStatistic: metrics.length ? undefined : a.ExtendedStatistic,
    Period: metrics.length ? undefined : a.Period,
    Metrics: metrics.length ? metrics : undefined,
    EvaluationPeriods: a.EvaluationPeriods,
    DatapointsToAlarm: a.DatapointsToAlarm ?? a.EvaluationPeriods,
    Threshold: a.Threshold,
    ComparisonOperator: a.ComparisonOperator,
    TreatMissingData: a.TreatMissingData ?? "missing",
  };
}

function comparableComposite(a: {
  AlarmDescription?: string;
  AlarmRule?: string;
  ActionsEnabled?: boolean;
  AlarmActions?: string[];
  OKActions?: string[];
  InsufficientDataActions?: string[];
}): Record<string, unknown> {
  return {
    AlarmDescription: a.AlarmDescription ?? "",
    AlarmRule: a.AlarmRule,
    ActionsEnabled: a.ActionsEnabled ?? true,
    AlarmActions: [...(a.AlarmActions ?? [])].sort(),
    OKActions: [...(a.OKActions ?? [])].sort(),
    InsufficientDataActions: [...(a.InsufficientDataActions ?? [])].sort(),
  };
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

async function readLiveAlarms(cloudwatch: CloudWatchClient, prefix: string): Promise<LiveAlarm[]> {
  const live: LiveAlarm[] = [];
  let token: string | undefined;
  do {
    const page: DescribeAlarmsCommandOutput = await cloudwatch.send(
      new DescribeAlarmsCommand({
        AlarmNamePrefix: prefix,
        AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
        NextToken: token,
      }),
    );
    for (const a of page.MetricAlarms ?? []) {
      live.push({
        name: a.AlarmName!,
        arn: a.AlarmArn!,
        kind: "metric",
        managed: false,
        comparable: comparableMetric(a),
      });
    }
    for (const a of page.CompositeAlarms ?? []) {
      live.push({
        name: a.AlarmName!,
        arn: a.AlarmArn!,
        kind: "composite",
        managed: false,
        comparable: comparableComposite(a),
      });
    }
    token = page.NextToken;
  } while (token);
  for (const alarm of live) {
    const tags = await cloudwatch.send(new ListTagsForResourceCommand({ ResourceARN: alarm.arn }));
    alarm.managed = (tags.Tags ?? []).some((t) => t.Key === MANAGED_BY.Key && t.Value === MANAGED_BY.Value);
  }
  return live;
}

/** What reconciling would do: create, update, adopt (same name, not tagged ours) and delete. */
function diffAlarms(
  desired: GeneratedAlarms,
  live: LiveAlarm[],
): { changes: AlarmChange[]; leftAlone: string[] } {
  const byName = new Map(live.map((a) => [a.name, a]));
  const changes: AlarmChange[] = [];
  const wanted = [
    ...desired.metricAlarms.map((a) => ({
      name: a.AlarmName!,
      kind: "metric" as const,
      comparable: comparableMetric(a),
    })),
    ...desired.compositeAlarms.map((a) => ({
      name: a.AlarmName!,
      kind: "composite" as const,
      comparable: comparableComposite(a),
    })),
  ];
  for (const want of wanted) {
    const have = byName.get(want.name);
    if (!have) {
      changes.push({
        name: want.name,
        action: "create",
        kind: want.kind,
        fields: fieldChanges(want.name, undefined, want.comparable),
      });
      continue;
    }
    const fields = fieldChanges(want.name, have.kind === want.kind ? have.comparable : {}, want.comparable);
    if (!have.managed) changes.push({ name: want.name, action: "adopt", kind: want.kind, fields });
    else if (fields.length > 0) changes.push({ name: want.name, action: "update", kind: want.kind, fields });
  }
  const wantedNames = new Set(wanted.map((w) => w.name));
  const leftAlone: string[] = [];
  for (const have of live) {
    if (wantedNames.has(have.name)) continue;
    if (have.managed) {
      changes.push({
        name: have.name,
        action: "delete",
        kind: have.kind,
        fields: fieldChanges(have.name, have.comparable, undefined),
      });
    } else {
      leftAlone.push(have.name);
    }
  }
  return { changes, leftAlone };
}

function loadDesired(options: ObservabilityOptions): GeneratedAlarms {
  const dir = resolve(options.alarmsDir ?? "alarms/generated");
  const desired = readJson<GeneratedAlarms>(
    join(dir, options.env.name, "cloudwatch-alarms.json"),
    "generated alarms",
  );
  const prefix = alarmNamePrefix(options.env);
  if (desired.namePrefix !== prefix) {
    throw new DeliveryError(
      `generated alarms use prefix ${desired.namePrefix}, but environments/${options.env.name}.yaml gives ${prefix}: run npm run generate`,
    );
  }
  for (const a of [...desired.metricAlarms, ...desired.compositeAlarms]) {
    if (!a.AlarmName?.startsWith(prefix))
      throw new DeliveryError(`generated alarm ${a.AlarmName} is outside the prefix ${prefix}`);
  }
  return desired;
}

async function grafanaChanges(
  options: ObservabilityOptions,
  doFetch: typeof fetch,
): Promise<DashboardChange[]> {
  const grafana = options.grafana;
  if (!grafana) return [];
  const files = grafanaDashboardFiles(options);
  const base = grafana.url.replace(/\/+$/, "");
  const headers = {
    authorization: `Bearer ${grafana.token}`,
    "content-type": "application/json",
    accept: "application/json",
  };
  const out: DashboardChange[] = [];
  const folderUid = grafana.folderUid ?? "";
  if (folderUid) {
    const folder = await doFetch(`${base}/api/folders/${encodeURIComponent(folderUid)}`, { headers });
    if (folder.status === 404) {
      out.push({
        where: "grafana folder",
        name: folderUid,
        action: "create",
        publish: async () => {
          const response = await doFetch(`${base}/api/folders`, {
            method: "POST",
            headers,
            body: JSON.stringify({ uid: folderUid, title: folderUid }),
          });
          if (!response.ok)
            throw new DeliveryError(
              `Grafana refused to create folder ${folderUid} (HTTP ${response.status})`,
            );
        },
      });
    } else if (folder.status === 401 || folder.status === 403) {
      throw new DeliveryError(
        `Grafana at ${base} refused the token (HTTP ${folder.status}): give the service account the Editor role`,
      );
    }
  }
  for (const file of files) {
    const dashboard = readJson<Record<string, unknown>>(file, "generated dashboard");
    const uid = String(dashboard.uid);
    const current = await doFetch(`${base}/api/dashboards/uid/${encodeURIComponent(uid)}`, { headers });
    if (current.status === 401 || current.status === 403) {
      throw new DeliveryError(
        `Grafana at ${base} refused the token (HTTP ${current.status}): give the service account the Editor role`,
      );
    }
    let action: DashboardChange["action"] = "create";
    if (current.ok) {
      const live = (await current.json()) as {
        dashboard: Record<string, unknown>;
        meta?: { folderUid?: string };
      };
      const strip = ({ id: _id, version: _version, ...rest }: Record<string, unknown>) =>
        JSON.stringify(rest);
      // Same content in the same folder: nothing to publish.
      if (strip(live.dashboard) === strip(dashboard) && (live.meta?.folderUid ?? "") === folderUid) continue;
      action = "update";
    } else if (current.status !== 404) {
      throw new DeliveryError(`Grafana at ${base} answered HTTP ${current.status} for dashboard ${uid}`);
    }
    out.push({
      where: "grafana",
      name: uid,
      action,
      publish: async () => {
        const response = await doFetch(`${base}/api/dashboards/db`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            dashboard: { ...dashboard, id: null },
            folderUid,
            overwrite: true,
            message: `content-engine observability-apply ${options.env.name}`,
          }),
        });
        if (!response.ok) {
          throw new DeliveryError(
            `Grafana refused dashboard ${uid} (HTTP ${response.status}): ${(await response.text()).slice(0, 300)}`,
          );
        }
      },
    });
  }
  return out;
}

function grafanaDashboardFiles(options: ObservabilityOptions): string[] {
  const dir = join(resolve(options.dashboardsDir ?? "dashboards/generated"), "grafana");
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.startsWith(`${options.env.name}-`) && f.endsWith(".json"))
        .sort()
        .map((f) => join(dir, f))
    : [];
  if (files.length === 0)
    throw new DeliveryError(`no Grafana dashboards for ${options.env.name} in ${dir}: run npm run generate`);
  return files;
}

/** The tags of the generated dashboards' deploy annotation (one source: what the dashboards show). */
function deployMarkerTags(options: ObservabilityOptions): string[] {
  for (const file of grafanaDashboardFiles(options)) {
    const dashboard = readJson<{
      annotations?: { list?: Array<{ target?: { type?: string; tags?: string[] } }> };
    }>(file, "generated dashboard");
    const marker = dashboard.annotations?.list?.find((a) => a.target?.type === "tags");
    if (marker?.target?.tags?.length) return marker.target.tags;
  }
  throw new DeliveryError(
    `the generated Grafana dashboards of ${options.env.name} show no deploy annotation: run npm run generate`,
  );
}

async function postDeployMarker(
  options: ObservabilityOptions,
  grafana: GrafanaTarget,
  doFetch: typeof fetch,
): Promise<string> {
  const { env } = options;
  const text = `${env.name}: deployed ${env.image.tag} (${env.image.digest})`;
  const response = await doFetch(`${grafana.url.replace(/\/+$/, "")}/api/annotations`, {
    method: "POST",
    headers: { authorization: `Bearer ${grafana.token}`, "content-type": "application/json" },
    body: JSON.stringify({ time: Date.now(), tags: deployMarkerTags(options), text }),
  });
  if (!response.ok) throw new DeliveryError(`Grafana refused the deploy marker (HTTP ${response.status})`);
  return text;
}

async function cloudWatchDashboardChange(
  options: ObservabilityOptions,
  cloudwatch: CloudWatchClient,
): Promise<DashboardChange[]> {
  if (options.cloudwatchDashboard === false) return [];
  const file = join(
    resolve(options.dashboardsDir ?? "dashboards/generated"),
    "cloudwatch",
    `${options.env.name}.json`,
  );
  const desired = readJson<{ DashboardName: string; DashboardBody: string }>(
    file,
    "generated CloudWatch dashboard",
  );
  let live: string | undefined;
  try {
    live = (await cloudwatch.send(new GetDashboardCommand({ DashboardName: desired.DashboardName })))
      .DashboardBody;
  } catch (error) {
    if (!/ResourceNotFound|NotFound/.test((error as Error).name)) throw explainAwsError(error);
  }
  const same =
    live !== undefined &&
    JSON.stringify(JSON.parse(live)) === JSON.stringify(JSON.parse(desired.DashboardBody));
  if (same) return [];
  return [
    {
      where: "cloudwatch",
      name: desired.DashboardName,
      action: live === undefined ? "create" : "update",
      publish: async () => {
        await cloudwatch.send(new PutDashboardCommand(desired));
      },
    },
  ];
}

async function prepare(options: ObservabilityOptions) {
  const { cloudwatch, elb } = clients(options);
  if (options.grafana?.token) (options.reporter ?? consoleReporter).secret(options.grafana.token);
  const desired = loadDesired(options);
  try {
    await resolveReferences(elb, desired, options.env);
    const live = await readLiveAlarms(cloudwatch, desired.namePrefix);
    const { changes, leftAlone } = diffAlarms(desired, live);
    const dashboards = [
      ...(await grafanaChanges(options, options.fetch ?? fetch)),
      ...(await cloudWatchDashboardChange(options, cloudwatch)),
    ];
    return { cloudwatch, desired, live, changes, leftAlone, dashboards };
  } catch (error) {
    throw explainAwsError(error);
  }
}

const target = (env: Environment) => `${env.name} (${alarmNamePrefix(env)}*)`;

/** The diff, without a single mutating call. */
export async function planObservability(options: ObservabilityOptions): Promise<Plan> {
  const { changes, leftAlone, dashboards } = await prepare(options);
  const steps = [
    ...changes.map((c) => `${c.action} ${c.kind} alarm ${c.name}`),
    ...dashboards.map((d) => `${d.action} ${d.where} dashboard ${d.name}`),
  ];
  const marker =
    options.grafana && options.deployMarker
      ? [`annotate grafana: deploy marker ${deployMarkerTags(options).join(",")}`]
      : [];
  return {
    operation: "observability-apply",
    target: target(options.env),
    // The deploy marker alone is no change to plan for: it records the deploy that runs anyway.
    noop: steps.length === 0,
    changes: changes.flatMap((c) =>
      c.fields.length ? c.fields : [{ field: `${c.name}`, from: c.action, to: c.action }],
    ),
    steps: [...steps, ...marker],
    details: leftAlone.length
      ? [`left alone (not tagged ${MANAGED_BY.Key}=${MANAGED_BY.Value}):\n${leftAlone.join("\n")}`]
      : [],
  };
}

/** Creates, updates and deletes this environment's managed alarms and publishes its dashboards. */
export async function applyObservability(options: ObservabilityOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  const reporter = options.reporter ?? consoleReporter;
  const { cloudwatch, desired, changes, leftAlone, dashboards } = await prepare(options);
  const count = (action: AlarmAction) => changes.filter((c) => c.action === action).length;
  const outputs = {
    "alarms-created": String(count("create")),
    "alarms-updated": String(count("update") + count("adopt")),
    "alarms-deleted": String(count("delete")),
    "alarms-left-alone": String(leftAlone.length),
    dashboards: dashboards.map((d) => `${d.where}:${d.name}`).join(","),
  } as Record<string, string>;
  const marker =
    options.grafana && options.deployMarker
      ? await postDeployMarker(options, options.grafana, options.fetch ?? fetch)
      : undefined;
  if (marker) reporter.info(`grafana deploy marker: ${marker}`);
  outputs["deploy-marker"] = marker ?? "";
  if (changes.length === 0 && dashboards.length === 0) {
    return finish(watch, {
      operation: "observability-apply",
      target: target(options.env),
      status: "unchanged",
      reason: `${desired.metricAlarms.length + desired.compositeAlarms.length} alarms and the dashboards already match the generated ones${marker ? "; deploy marker posted" : ""}`,
      diagnostics: marker ? [`grafana deploy marker: ${marker}`] : [],
      outputs,
    });
  }
  const diagnostics: string[] = marker ? [`grafana deploy marker: ${marker}`] : [];
  const puts = new Set(changes.filter((c) => c.action !== "delete").map((c) => c.name));
  try {
    // Metric alarms before the composites that name them; composites in generated order (members first).
    for (const alarm of desired.metricAlarms.filter((a) => puts.has(a.AlarmName!))) {
      await cloudwatch.send(new PutMetricAlarmCommand(alarm));
    }
    for (const alarm of desired.compositeAlarms.filter((a) => puts.has(a.AlarmName!))) {
      await cloudwatch.send(new PutCompositeAlarmCommand(alarm));
    }
    for (const change of changes.filter((c) => c.action === "adopt")) {
      const live = await cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: [change.name],
          AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
        }),
      );
      const arn = [...(live.MetricAlarms ?? []), ...(live.CompositeAlarms ?? [])][0]?.AlarmArn;
      if (arn)
        await cloudwatch.send(
          new TagResourceCommand({
            ResourceARN: arn,
            Tags: [{ ...MANAGED_BY }, { Key: "environment", Value: options.env.name }],
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
  for (const change of changes) {
    const line = `${change.action} ${change.kind} alarm ${change.name}`;
    reporter.info(line);
    diagnostics.push(line);
  }
  for (const dashboard of dashboards) {
    await dashboard.publish();
    const line = `${dashboard.action} ${dashboard.where} dashboard ${dashboard.name}`;
    reporter.info(line);
    diagnostics.push(line);
  }
  if (leftAlone.length) diagnostics.push(`left alone (not ours): ${leftAlone.join(", ")}`);
  return finish(watch, {
    operation: "observability-apply",
    target: target(options.env),
    status: "succeeded",
    reason: `alarms: ${outputs["alarms-created"]} created, ${outputs["alarms-updated"]} updated, ${outputs["alarms-deleted"]} deleted, ${leftAlone.length} left alone; ${dashboards.length} dashboards published`,
    diagnostics,
    outputs,
  });
}
