// CloudWatch alarm reads shared by deploy gates (Lambda canary) and promotion gates.
import { type CloudWatchClient, DescribeAlarmsCommand, type StateValue } from "@aws-sdk/client-cloudwatch";

export interface AlarmSelector {
  names?: readonly string[];
  prefix?: string;
}

/** Names of the selected alarms currently in ALARM. Calls only DescribeAlarms. */
export async function alarmsInAlarm(
  cloudwatch: CloudWatchClient,
  selector: AlarmSelector,
): Promise<string[]> {
  const state: StateValue = "ALARM";
  const names = selector.names ?? [];
  const found: string[] = [];
  if (names.length > 0) {
    for (let i = 0; i < names.length; i += 100) {
      const out = await cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), StateValue: state }),
      );
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])])
        found.push(alarm.AlarmName!);
    }
  }
  if (selector.prefix) {
    let token: string | undefined;
    do {
      const out = await cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNamePrefix: selector.prefix, StateValue: state, NextToken: token }),
      );
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])])
        found.push(alarm.AlarmName!);
      token = out.NextToken;
    } while (token);
  }
  return [...new Set(found)].sort();
}
