// CloudWatch alarm reads shared by deploy gates (Lambda canary) and promotion gates.
import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
  type DescribeAlarmsCommandOutput,
  type StateValue,
} from "@aws-sdk/client-cloudwatch";

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
  const found = new Set<string>();
  const query = async (input: DescribeAlarmsCommandInput) => {
    let token: string | undefined;
    do {
      const out: DescribeAlarmsCommandOutput = await cloudwatch.send(
        new DescribeAlarmsCommand({ ...input, StateValue: state, NextToken: token }),
      );
      // Filter on the state here too: not every endpoint applies StateValue together with AlarmNames.
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (alarm.StateValue === state && alarm.AlarmName) found.add(alarm.AlarmName);
      }
      token = out.NextToken;
    } while (token);
  };
  const names = selector.names ?? [];
  for (let i = 0; i < names.length; i += 100) await query({ AlarmNames: names.slice(i, i + 100) });
  if (selector.prefix) await query({ AlarmNamePrefix: selector.prefix });
  return [...found].sort();
}
