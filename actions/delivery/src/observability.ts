// observability-apply: one environment's generated alarms reconciled with CloudWatch, its dashboards
// published (Grafana, CloudWatch), and then a Grafana deploy marker. Reads only the committed output
// of alarms/ and dashboards/; the work itself is in alarm-reconcile.ts, dashboards.ts,
// cloudwatch-dashboard.ts and grafana.ts.
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { alarmNamePrefix, type Environment } from "@content-engine/environments";
import {
  type AlarmAction,
  albLookup,
  applyAlarmChanges,
  diffAlarms,
  loadGeneratedAlarms,
  MANAGED_BY,
  readLiveAlarms,
  resolveAlarmReferences,
} from "./alarm-reconcile.ts";
import { type AwsOptions, createClient } from "./aws.ts";
import { cloudWatchDashboardChanges } from "./cloudwatch-dashboard.ts";
import {
  type DashboardChange,
  deployMarkerTags,
  grafanaDashboardChanges,
  readDashboardManifest,
} from "./dashboards.ts";
import { explainAwsError } from "./errors.ts";
import { generatedAlarmsDir, generatedDashboardsDir } from "./generated.ts";
import { GrafanaClient, type GrafanaTarget } from "./grafana.ts";
import { finish, type Outcome, type Plan, Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import type { RetryOptions } from "./retry.ts";

export { MANAGED_BY } from "./alarm-reconcile.ts";
export type { GrafanaTarget } from "./grafana.ts";

export interface ObservabilityOptions {
  env: Environment;
  /** Folder with `<env>/cloudwatch-alarms.json` (default: alarms/generated of this checkout). */
  alarmsDir?: string;
  /** Folder with `manifest/<env>.json` (the dashboards and deploy-marker tags), the Grafana JSON it lists and `cloudwatch/<env>.json` (default: dashboards/generated of this checkout). */
  dashboardsDir?: string;
  grafana?: GrafanaTarget;
  /**
   * Post a Grafana annotation marking this deploy (image tag and digest of the environment file),
   * with the tags the generated dashboards' "Deploys" annotation shows, after every change. Needs `grafana`.
   */
  deployMarker?: boolean;
  /** Publish the CloudWatch dashboard too (default true). */
  cloudwatchDashboard?: boolean;
  aws?: Partial<AwsOptions>;
  cloudwatch?: CloudWatchClient;
  elb?: ElasticLoadBalancingV2Client;
  /** HTTP client for Grafana (default global fetch). */
  fetch?: typeof fetch;
  /** Retries of Grafana calls answered 429/5xx or not answered at all. */
  grafanaRetry?: RetryOptions;
  reporter?: Reporter;
}

async function prepare(options: ObservabilityOptions) {
  const { env } = options;
  const aws: AwsOptions = { region: env.region, ...options.aws };
  const cloudwatch = options.cloudwatch ?? createClient(CloudWatchClient, aws);
  const elb = options.elb ?? createClient(ElasticLoadBalancingV2Client, aws);
  if (options.grafana?.token) (options.reporter ?? consoleReporter).secret(options.grafana.token);
  const grafana = options.grafana
    ? new GrafanaClient(options.grafana, { fetch: options.fetch, retry: options.grafanaRetry })
    : undefined;
  const dashboardsDir = options.dashboardsDir ?? generatedDashboardsDir();
  const desired = loadGeneratedAlarms(env, options.alarmsDir ?? generatedAlarmsDir());
  try {
    const lookup = albLookup(elb, env);
    await resolveAlarmReferences(desired, lookup);
    const { changes, leftAlone } = diffAlarms(desired, await readLiveAlarms(cloudwatch, desired.namePrefix));
    const dashboards: DashboardChange[] = [
      ...(grafana
        ? await grafanaDashboardChanges(grafana, env, dashboardsDir, options.grafana?.folderUid ?? "")
        : []),
      ...(options.cloudwatchDashboard === false
        ? []
        : await cloudWatchDashboardChanges(cloudwatch, env, dashboardsDir, lookup)),
    ];
    const marker = grafana && options.deployMarker ? grafana : undefined;
    return { cloudwatch, desired, changes, leftAlone, dashboards, dashboardsDir, marker };
  } catch (error) {
    throw explainAwsError(error);
  }
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * Posts the deploy marker: image tag and digest of the environment file, with links (HTML anchors,
 * which Grafana's annotation tooltip renders) to the run's job summary and the GitHub deployment
 * (GrafanaTarget.markerLinks).
 * Answers its text, its id and each dashboard of the manifest over the 30 minutes either side.
 */
async function postMarker(grafana: GrafanaClient, options: ObservabilityOptions, dashboardsDir: string) {
  const { env } = options;
  const links = options.grafana?.markerLinks ?? {};
  const anchors = [
    links.run && `<a href="${escapeHtml(links.run)}">job summary</a>`,
    links.deployment &&
      `<a href="${escapeHtml(links.deployment.url)}">GitHub deployment #${links.deployment.id}</a>`,
  ].filter(Boolean);
  const text = `${env.name}: deployed ${env.image.tag} (${env.image.digest})${anchors.length ? ` · ${anchors.join(" · ")}` : ""}`;
  const time = Date.now();
  const { id } = await grafana.annotate({ time, tags: deployMarkerTags(env, dashboardsDir), text });
  const window = 30 * 60_000;
  const dashboards = readDashboardManifest(env, dashboardsDir).grafana.map(({ uid }) =>
    grafana.dashboardUrl(uid, time - window, time + window),
  );
  return { text, id, dashboards };
}

const target = (env: Environment) => `${env.name} (${alarmNamePrefix(env)}*)`;

/** The diff, without a single mutating call. */
export async function planObservability(options: ObservabilityOptions): Promise<Plan> {
  const { changes, leftAlone, dashboards, dashboardsDir, marker } = await prepare(options);
  const steps = [
    ...changes.map((c) => `${c.action} ${c.kind} alarm ${c.name}`),
    ...dashboards.map((d) => `${d.action} ${d.where} dashboard ${d.name}`),
  ];
  return {
    operation: "observability-apply",
    target: target(options.env),
    // The deploy marker alone is no change to plan for: it records the deploy that runs anyway.
    noop: steps.length === 0,
    changes: changes.flatMap((c) =>
      c.fields.length ? c.fields : [{ field: `${c.name}`, from: c.action, to: c.action }],
    ),
    steps: [
      ...steps,
      ...(marker
        ? [`annotate grafana: deploy marker ${deployMarkerTags(options.env, dashboardsDir).join(",")}`]
        : []),
    ],
    details: leftAlone.length
      ? [`left alone (not tagged ${MANAGED_BY.Key}=${MANAGED_BY.Value}):\n${leftAlone.join("\n")}`]
      : [],
  };
}

/**
 * Creates, updates and deletes this environment's managed alarms, publishes its dashboards, and only
 * then posts the deploy marker: a marker never stands for changes that failed to land.
 */
export async function applyObservability(options: ObservabilityOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  const reporter = options.reporter ?? consoleReporter;
  const { cloudwatch, desired, changes, leftAlone, dashboards, dashboardsDir, marker } =
    await prepare(options);
  const count = (action: AlarmAction) => changes.filter((c) => c.action === action).length;
  const diagnostics: string[] = [];
  await applyAlarmChanges(cloudwatch, options.env, desired, changes);
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
  const posted = marker ? await postMarker(marker, options, dashboardsDir) : undefined;
  const markerText = posted?.text;
  if (posted) {
    reporter.info(`grafana deploy marker: ${posted.text}`);
    diagnostics.push(
      `grafana deploy marker${posted.id === undefined ? "" : ` #${posted.id}`}: ${posted.text}`,
    );
    for (const link of posted.dashboards) diagnostics.push(`  ${link}`);
  }
  if (leftAlone.length) diagnostics.push(`left alone (not ours): ${leftAlone.join(", ")}`);
  const outputs: Record<string, string> = {
    "alarms-created": String(count("create")),
    "alarms-updated": String(count("update") + count("adopt")),
    "alarms-deleted": String(count("delete")),
    "alarms-left-alone": String(leftAlone.length),
    dashboards: dashboards.map((d) => `${d.where}:${d.name}`).join(","),
    "deploy-marker": markerText ?? "",
    "deploy-marker-id": posted?.id === undefined ? "" : String(posted.id),
    "deploy-marker-url": posted?.dashboards[0] ?? "",
  };
  const unchanged = changes.length === 0 && dashboards.length === 0;
  return finish(watch, {
    operation: "observability-apply",
    target: target(options.env),
    status: unchanged ? "unchanged" : "succeeded",
    reason: unchanged
      ? `${desired.metricAlarms.length + desired.compositeAlarms.length} alarms and the dashboards already match the generated ones${markerText ? "; deploy marker posted" : ""}`
      : `alarms: ${outputs["alarms-created"]} created, ${outputs["alarms-updated"]} updated, ${outputs["alarms-deleted"]} deleted, ${leftAlone.length} left alone; ${dashboards.length} dashboards published`,
    diagnostics,
    outputs,
  });
}
