// Renders alarm definitions as the PutMetricAlarm / PutCompositeAlarm inputs of one environment.
import { alarmName, alarmNamePrefix, type Environment } from "@content-engine/environments";
import type { AlarmDefinition, CompositeAlarmDefinition, MetricAlarmDefinition, Severity } from "./model.ts";
import { runbookUrl } from "./runbooks.ts";

export const MANAGED_BY_TAG = { Key: "managed-by", Value: "content-engine/alarms" } as const;

export interface Tag {
  Key: string;
  Value: string;
}
export interface Dimension {
  Name: string;
  Value: string;
}
export interface MetricDataQuery {
  Id: string;
  Expression?: string;
  Label?: string;
  ReturnData: boolean;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions: Dimension[] };
    Period: number;
    Stat: string;
  };
}

/** A PutMetricAlarm input (the fields this repository sets, all of them explicit). */
export interface MetricAlarmInput {
  AlarmName: string;
  AlarmDescription: string;
  ActionsEnabled: boolean;
  AlarmActions: string[];
  OKActions: string[];
  InsufficientDataActions: string[];
  Namespace?: string;
  MetricName?: string;
  Dimensions?: Dimension[];
  Statistic?: string;
  ExtendedStatistic?: string;
  Period?: number;
  Metrics?: MetricDataQuery[];
  EvaluationPeriods: number;
  DatapointsToAlarm: number;
  Threshold: number;
  ComparisonOperator: MetricAlarmDefinition["comparison"];
  TreatMissingData: MetricAlarmDefinition["treatMissingData"];
  Tags: Tag[];
}

/** A PutCompositeAlarm input. */
export interface CompositeAlarmInput {
  AlarmName: string;
  AlarmDescription: string;
  AlarmRule: string;
  ActionsEnabled: boolean;
  AlarmActions: string[];
  OKActions: string[];
  InsufficientDataActions: string[];
  Tags: Tag[];
}

export interface CloudWatchAlarms {
  environment: string;
  namePrefix: string;
  metricAlarms: MetricAlarmInput[];
  compositeAlarms: CompositeAlarmInput[];
}

const dimensions = (d: Record<string, string>): Dimension[] =>
  Object.entries(d).map(([Name, Value]) => ({ Name, Value }));

/** The SNS topic a severity notifies in this environment (none for the members of a composite). */
export function severityTopics(env: Environment, severity: Severity): string[] {
  if (severity === "page") return [env.alarms.pageTopicArn];
  if (severity === "ticket") return [env.alarms.ticketTopicArn];
  return [];
}

function common(env: Environment, alarm: AlarmDefinition) {
  const actions = severityTopics(env, alarm.severity);
  return {
    AlarmName: alarmName(env, alarm.id),
    AlarmDescription: `${alarm.summary} Runbook: ${runbookUrl(alarm.runbook)}`,
    ActionsEnabled: true,
    AlarmActions: actions,
    OKActions: actions,
    InsufficientDataActions: [],
  };
}

function tags(env: Environment, alarm: AlarmDefinition): Tag[] {
  return [
    { ...MANAGED_BY_TAG },
    { Key: "environment", Value: env.name },
    { Key: "severity", Value: alarm.severity },
  ];
}

function metricAlarm(env: Environment, alarm: MetricAlarmDefinition): MetricAlarmInput {
  const evaluation = {
    EvaluationPeriods: alarm.evaluationPeriods,
    DatapointsToAlarm: alarm.datapointsToAlarm,
    Threshold: alarm.threshold,
    ComparisonOperator: alarm.comparison,
    TreatMissingData: alarm.treatMissingData,
  };
  if (!alarm.expression) {
    const ref = Object.values(alarm.metrics)[0]!;
    const extended = !(ref.metric.statistics as readonly string[]).includes(ref.stat);
    return {
      ...common(env, alarm),
      Namespace: ref.metric.namespace,
      MetricName: ref.metric.name,
      Dimensions: dimensions(ref.dimensions),
      ...(extended ? { ExtendedStatistic: ref.stat } : { Statistic: ref.stat }),
      Period: alarm.period,
      ...evaluation,
      Tags: tags(env, alarm),
    };
  }
  return {
    ...common(env, alarm),
    Metrics: [
      { Id: "e1", Expression: alarm.expression.expr, Label: alarm.expression.label, ReturnData: true },
      ...Object.entries(alarm.metrics).map(([Id, ref]) => ({
        Id,
        ReturnData: false,
        MetricStat: {
          Metric: {
            Namespace: ref.metric.namespace,
            MetricName: ref.metric.name,
            Dimensions: dimensions(ref.dimensions),
          },
          Period: alarm.period,
          Stat: ref.stat,
        },
      })),
    ],
    ...evaluation,
    Tags: tags(env, alarm),
  };
}

function compositeAlarm(env: Environment, alarm: CompositeAlarmDefinition): CompositeAlarmInput {
  return {
    ...common(env, alarm),
    AlarmRule: alarm.rule.replace(
      /(ALARM|OK|INSUFFICIENT_DATA)\(([^)]+)\)/g,
      (_m, state: string, id: string) => `${state}("${alarmName(env, id)}")`,
    ),
    Tags: tags(env, alarm),
  };
}

export function renderCloudWatchAlarms(env: Environment, alarms: AlarmDefinition[]): CloudWatchAlarms {
  return {
    environment: env.name,
    namePrefix: alarmNamePrefix(env),
    metricAlarms: alarms
      .filter((a): a is MetricAlarmDefinition => a.kind === "metric" && a.cloudwatch !== false)
      .map((a) => metricAlarm(env, a)),
    compositeAlarms: alarms
      .filter((a): a is CompositeAlarmDefinition => a.kind === "composite" && a.cloudwatch !== false)
      .map((a) => compositeAlarm(env, a)),
  };
}
