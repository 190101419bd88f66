// Every alarm of one environment, from the telemetry catalog and environments/<env>.yaml.
// On by default: an environment gets all of them; thresholds only tune them. Each family is a
// file of families/, named for what it watches; this file puts them together, keeps on EKS what
// exists there, and adds the gate deploys and promotions stop on.
import type { Environment } from "@content-engine/environments";
import { alarmContext } from "./context.ts";
import { apiAlarms } from "./families/api.ts";
import { deadLetterAlarms } from "./families/dead-letter.ts";
import { kubernetesAlerts } from "./families/kubernetes.ts";
import { queueAlarms } from "./families/queue.ts";
import { sloBurnAlarms } from "./families/slo-burn.ts";
import { workerAlarms } from "./families/worker.ts";
import type { AlarmDefinition, CompositeAlarmDefinition } from "./model.ts";

export function alarmDefinitions(env: Environment): AlarmDefinition[] {
  const context = alarmContext(env);
  const alarms = [
    ...queueAlarms(context),
    ...deadLetterAlarms(context),
    ...apiAlarms(context),
    ...workerAlarms(context),
    ...sloBurnAlarms(context),
    ...kubernetesAlerts(context),
  ];
  const placed = env.platform === "eks" ? placeOnEks(alarms) : alarms;
  return [...placed, serviceUnhealthy(placed)];
}

/**
 * On EKS the API and the worker run as pods: the ECS, ALB and Lambda metrics do not exist, so only
 * the SQS alarms stay in CloudWatch; what Prometheus can see becomes a rule only, the rest goes.
 */
function placeOnEks(alarms: AlarmDefinition[]): AlarmDefinition[] {
  const onSqs = (a: AlarmDefinition) =>
    a.kind === "metric" && Object.values(a.metrics).every((ref) => ref.metric.namespace === "AWS/SQS");
  return alarms.flatMap((alarm) => {
    if (onSqs(alarm)) return [alarm];
    return alarm.prometheus ? [{ ...alarm, cloudwatch: false as const }] : [];
  });
}

/** The members of the deploy gate: what users notice, each of which pages on its own. */
const GATE_MEMBERS = [
  "api-5xx",
  "worker-errors",
  "jobs-failed",
  "dlq-new-messages",
  "api-tasks-below-min",
  "api-availability-fast-burn",
  "job-freshness-fast-burn",
];

/** The composite deploys and promotions stop on, over the members this environment has in CloudWatch. */
function serviceUnhealthy(alarms: AlarmDefinition[]): CompositeAlarmDefinition {
  return {
    kind: "composite",
    id: "service-unhealthy",
    summary:
      "Something that users notice is wrong (5xx, failing or stale jobs, new dead letters, missing API tasks, a fast SLO burn). Deploys and promotions stop while this is in ALARM.",
    runbook: "service-unhealthy",
    // A gate, not a notification: each member pages on its own.
    severity: "none",
    rule: GATE_MEMBERS.filter((id) => alarms.some((a) => a.id === id && a.cloudwatch !== false))
      .map((id) => `ALARM(${id})`)
      .join(" OR "),
  };
}
