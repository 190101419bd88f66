// CloudWatch alarm reads shared by deploy gates (Lambda canary) and promotion gates.
import {
  type CloudWatchClient,
  type CompositeAlarm,
  type DescribeAlarmsCommandInput,
  type MetricAlarm,
  paginateDescribeAlarms,
  type StateValue,
} from "@aws-sdk/client-cloudwatch";

export interface AlarmSelector {
  /** Alarms that count whatever their tier (an environment's deployment alarms). */
  names?: readonly string[];
  /** Every alarm whose name starts with this... */
  prefix?: string;
  /**
   * ...that notifies this topic: the page tier. Ticket-tier alarms (a rejected document, a DLQ
   * someone has still to drain, a slow burn) and silent composite members then block nothing.
   */
  pageTopicArn?: string;
}

/** Names of the selected alarms currently in ALARM. Calls only DescribeAlarms. */
export async function alarmsInAlarm(
  cloudwatch: CloudWatchClient,
  selector: AlarmSelector,
): Promise<string[]> {
  const state: StateValue = "ALARM";
  const found = new Set<string>();
  const query = async (
    input: DescribeAlarmsCommandInput,
    counts: (a: MetricAlarm | CompositeAlarm) => boolean,
  ) => {
    for await (const page of paginateDescribeAlarms(
      { client: cloudwatch },
      { ...input, StateValue: state },
    )) {
      // Filter on the state here too: not every endpoint applies StateValue together with AlarmNames.
      for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        if (alarm.StateValue === state && alarm.AlarmName && counts(alarm)) found.add(alarm.AlarmName);
      }
    }
  };
  const names = selector.names ?? [];
  for (let i = 0; i < names.length; i += 100)
    await query({ AlarmNames: names.slice(i, i + 100) }, () => true);
  const topic = selector.pageTopicArn;
  if (selector.prefix) {
    await query(
      { AlarmNamePrefix: selector.prefix, AlarmTypes: ["MetricAlarm", "CompositeAlarm"] },
      (alarm) => topic === undefined || (alarm.AlarmActions ?? []).includes(topic),
    );
  }
  return [...found].sort();
}
