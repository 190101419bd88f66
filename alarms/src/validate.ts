// Checks a set of alarm definitions before anything is rendered: every failure names the alarm
// and what is wrong with it.
import { alarmName, type Environment, environmentSource } from "@content-engine/environments";
import { assertPromqlInCatalog, findAwsMetric } from "@content-engine/telemetry";
import type { AlarmDefinition, MetricRef } from "./model.ts";
import { AlarmDefinitionError } from "./thresholds.ts";

const PERCENTILE = /^p(\d{1,2}(\.\d+)?)$/;
const PERCENTILE_RANK = /^PR\((\d+(\.\d+)?)?:(\d+(\.\d+)?)?\)$/;
const VALID_PERIODS = (period: number) =>
  period === 10 || period === 30 || (period >= 60 && period % 60 === 0);

function checkMetric(alarm: string, key: string, ref: MetricRef): void {
  const where = `alarm ${alarm}, metric ${key} (${ref.metric.namespace} ${ref.metric.name})`;
  if (findAwsMetric(ref.metric.namespace, ref.metric.name) !== ref.metric) {
    throw new AlarmDefinitionError(`${where}: not in the telemetry catalog`);
  }
  const given = Object.keys(ref.dimensions).sort();
  const declared = [...ref.metric.dimensions].sort();
  if (given.join() !== declared.join()) {
    throw new AlarmDefinitionError(
      `${where}: dimensions ${given.join(", ")} differ from the declared ${declared.join(", ")}`,
    );
  }
  for (const [name, value] of Object.entries(ref.dimensions)) {
    if (value.trim() === "") throw new AlarmDefinitionError(`${where}: dimension ${name} is empty`);
  }
  const extended = PERCENTILE.test(ref.stat) || PERCENTILE_RANK.test(ref.stat);
  if (extended ? !ref.metric.percentiles : !(ref.metric.statistics as readonly string[]).includes(ref.stat)) {
    throw new AlarmDefinitionError(
      `${where}: statistic ${ref.stat} does not apply (use ${ref.metric.statistics.join(", ")}${ref.metric.percentiles ? " or a percentile" : ""})`,
    );
  }
}

/** Throws an AlarmDefinitionError naming the first problem; returns the definitions otherwise. */
export function validateDefinitions(env: Environment, alarms: AlarmDefinition[]): AlarmDefinition[] {
  const ids = new Set<string>();
  for (const alarm of alarms) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(alarm.id)) {
      throw new AlarmDefinitionError(
        `alarm id ${JSON.stringify(alarm.id)}: use lowercase letters, digits and dashes`,
      );
    }
    if (ids.has(alarm.id))
      throw new AlarmDefinitionError(`alarm name collision: ${alarmName(env, alarm.id)} is defined twice`);
    ids.add(alarm.id);
  }
  for (const alarm of alarms) {
    if (alarm.prometheus) assertPromqlInCatalog(alarm.prometheus.expr, `alarm ${alarm.id}`);
    if (alarm.kind === "composite") {
      // A Prometheus-only composite has its own expression; its CloudWatch rule is never rendered.
      if (alarm.cloudwatch === false) continue;
      for (const [, ref] of alarm.rule.matchAll(/(?:ALARM|OK|INSUFFICIENT_DATA)\(([^)]+)\)/g)) {
        const member = alarms.find((a) => a.id === ref);
        if (member?.cloudwatch === false) {
          throw new AlarmDefinitionError(
            `alarm ${alarm.id}: its rule names ${ref}, which is a Prometheus rule only here`,
          );
        }
        if (!ids.has(ref!))
          throw new AlarmDefinitionError(
            `alarm ${alarm.id}: its rule names ${ref}, which is not an alarm here`,
          );
      }
      continue;
    }
    if (alarm.kind === "prometheus") continue;
    const keys = Object.keys(alarm.metrics);
    if (keys.length === 0) throw new AlarmDefinitionError(`alarm ${alarm.id}: no metric`);
    if (keys.length > 1 && !alarm.expression)
      throw new AlarmDefinitionError(`alarm ${alarm.id}: several metrics need an expression`);
    for (const [key, ref] of Object.entries(alarm.metrics)) checkMetric(alarm.id, key, ref);
    if (!Number.isFinite(alarm.threshold))
      throw new AlarmDefinitionError(`alarm ${alarm.id}: threshold ${alarm.threshold} is not a number`);
    if (!VALID_PERIODS(alarm.period))
      throw new AlarmDefinitionError(
        `alarm ${alarm.id}: period ${alarm.period} s is not 10, 30 or a multiple of 60`,
      );
    if (alarm.datapointsToAlarm < 1 || alarm.datapointsToAlarm > alarm.evaluationPeriods) {
      throw new AlarmDefinitionError(
        `alarm ${alarm.id}: datapointsToAlarm ${alarm.datapointsToAlarm} must be between 1 and evaluationPeriods ${alarm.evaluationPeriods}`,
      );
    }
    if (alarm.period * alarm.evaluationPeriods > 86_400) {
      throw new AlarmDefinitionError(
        `alarm ${alarm.id}: period x evaluationPeriods exceeds CloudWatch's one day`,
      );
    }
  }
  // Deployment alarms stop ECS roll-outs and Lambda canaries: they exist on the ECS platform.
  for (const name of env.platform === "ecs" ? env.alarms.deploymentAlarms : []) {
    const alarm = alarms.find((a) => alarmName(env, a.id) === name);
    if (!alarm || alarm.cloudwatch === false) {
      throw new AlarmDefinitionError(
        `${environmentSource(env)}: alarms.deploymentAlarms names ${name}, which no generated alarm is`,
      );
    }
  }
  return alarms;
}
