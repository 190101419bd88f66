// The shape of an alarm definition, independent of where it is rendered (CloudWatch or Prometheus).
import type { AwsMetricDefinition } from "@content-engine/telemetry";

export type Comparison =
  | "GreaterThanThreshold"
  | "GreaterThanOrEqualToThreshold"
  | "LessThanThreshold"
  | "LessThanOrEqualToThreshold";
/**
 * `page`: a system fault users notice; the page-tier SNS topic, someone acts now.
 * `ticket`: a client fault, a slow trend or a capacity warning; the ticket-tier topic, next working day.
 * `none`: no notification (the members of a composite, which notifies in their place).
 */
export type Severity = "page" | "ticket" | "none";
export type TreatMissingData = "breaching" | "notBreaching" | "ignore" | "missing";

export interface MetricRef {
  metric: AwsMetricDefinition;
  dimensions: Record<string, string>;
  /** A statistic the catalog allows, or a percentile `p90`, or a percentile rank `PR(:60)`. */
  stat: string;
}

interface AlarmCommon {
  /** Suffix after the environment prefix: `content-engine-prod-<id>`. */
  id: string;
  /** One sentence: what is wrong when this fires. */
  summary: string;
  /** `alarms/runbooks/<runbook>.md`, linked by an absolute URL (see runbooks.ts). */
  runbook: string;
  /** Who hears of it: the page tier, the ticket tier, or nobody (a member of a composite). */
  severity: Severity;
  /**
   * false: a Prometheus rule only (on EKS the API and worker metrics live in Prometheus, and the
   * ECS, ALB and Lambda metrics do not exist). Default: a CloudWatch alarm too.
   */
  cloudwatch?: false;
}

export interface MetricAlarmDefinition extends AlarmCommon {
  kind: "metric";
  /** One metric, or metric math over several (`expression` then names them by key). */
  metrics: Record<string, MetricRef>;
  expression?: { expr: string; label: string };
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  comparison: Comparison;
  threshold: number;
  treatMissingData: TreatMissingData;
  /** The same condition for the EKS path, when Prometheus can see it. */
  prometheus?: PrometheusCondition;
}

export interface CompositeAlarmDefinition extends AlarmCommon {
  kind: "composite";
  /** Alarm rule over other alarms' ids: `ALARM(a) AND ALARM(b)`. */
  rule: string;
  prometheus?: PrometheusCondition;
}

/** Only a cluster shows it (pods, restarts, scrape targets): a Prometheus rule, never a CloudWatch alarm. */
export interface PrometheusAlertDefinition extends AlarmCommon {
  kind: "prometheus";
  cloudwatch: false;
  prometheus: PrometheusCondition;
}

export interface PrometheusCondition {
  expr: string;
  for: string;
}

export type AlarmDefinition = MetricAlarmDefinition | CompositeAlarmDefinition | PrometheusAlertDefinition;
