// The CloudWatch alarm paging chain on the local stack: worker outcome → metrics → generated alarm →
// SNS tier. Documents we cannot process because of their content (client faults) reach no DLQ and
// no page-tier alarm; a message that fails every attempt (a system fault) reaches the DLQ and pages.
//
// The stack is real (API, consumer, the fauxqs S3/SQS emulator). CloudWatch is not: the datapoints
// an alarm would read are taken from the same sources it reads in AWS — the worker's job-outcome
// counter (the consumer's /metrics; the Lambda writes the same catalog metric as EMF) and the DLQ's
// visible-message count — and each alarm's generated definition is evaluated by
// alarms/src/evaluator.ts.
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { loadEnvironment } from "@content-engine/environments";
import { catalog } from "@content-engine/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MetricAlarmInput } from "../../alarms/src/cloudwatch.ts";
import { alarmDefinitions } from "../../alarms/src/definitions.ts";
import { evaluateMetricAlarm } from "../../alarms/src/evaluator.ts";
import { renderEnvironmentAlarms, repositoryEnvironmentsDir } from "../../alarms/src/generate.ts";
import { queueCounts, startTestStack, submitText, waitFor } from "../../services/local/test/support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

const env = loadEnvironment("prod", repositoryEnvironmentsDir);
const { cloudwatch } = renderEnvironmentAlarms(env);
const alarm = (id: string): MetricAlarmInput =>
  cloudwatch.metricAlarms.find((a) => a.AlarmName === `${cloudwatch.namePrefix}${id}`)!;
const severity = (id: string) => alarmDefinitions(env).find((a) => a.id === id)!.severity;

beforeAll(async () => {
  stack = await startTestStack({ visibilityTimeoutSeconds: 2, maxReceiveCount: 2 });
});
afterAll(async () => {
  await stack?.stop();
});

/** The worker's job-outcome counter, by outcome (what EMF JobsProcessed carries on Lambda). */
async function outcomes(): Promise<Record<string, number>> {
  const text = await (await fetch(`${stack.workerUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  const line = new RegExp(`^${catalog.jobsProcessed.name}\\{[^}]*outcome="([a-z]+)"[^}]*\\} (\\S+)$`, "gm");
  for (const [, outcome, value] of text.matchAll(line))
    counts[outcome!] = (counts[outcome!] ?? 0) + Number(value);
  return counts;
}

/**
 * Messages in the DLQ. A dead-letter handler may peek at new ones (VisibilityTimeout 0): in AWS they
 * are visible again at once, the emulator may still count them in flight for a moment.
 */
async function dlqVisible(): Promise<number> {
  const counts = await queueCounts(stack.sqs, stack.dlqUrl);
  return counts.visible + counts.inFlight;
}

/** The page-tier alarms these signals feed, evaluated on the change between two readings. */
function pageTierStates(before: { outcomes: Record<string, number>; dlq: number }, after: typeof before) {
  const failed = (after.outcomes.failed ?? 0) - (before.outcomes.failed ?? 0);
  return {
    "jobs-failed": evaluateMetricAlarm(alarm("jobs-failed"), [failed > 0 ? failed : null]),
    "dlq-new-messages": evaluateMetricAlarm(alarm("dlq-new-messages"), { dlq: [before.dlq, after.dlq] }),
  };
}

describe("alarm paging on the local stack", () => {
  it("reads signals that page through the page tier", () => {
    expect(severity("jobs-failed")).toBe("page");
    expect(severity("dlq-new-messages")).toBe("page");
    expect(alarm("dlq-new-messages").AlarmActions).toEqual([env.alarms.pageTopicArn]);
  });

  it("pages when a message fails every attempt and reaches the DLQ (a system fault), even next to an old dead letter", async () => {
    const poison = async () => {
      const before = { outcomes: await outcomes(), dlq: await dlqVisible() };
      await stack.sqs.send(
        new SendMessageCommand({ QueueUrl: stack.config.queueUrl, MessageBody: "{not json" }),
      );
      await waitFor(async () => (await dlqVisible()) === before.dlq + 1, 30_000, "the DLQ");
      return pageTierStates(before, { outcomes: await outcomes(), dlq: await dlqVisible() });
    };
    expect((await poison())["dlq-new-messages"]).toBe("ALARM");
    // The first dead letter is still there, undrained: the next one pages again.
    expect(await dlqVisible()).toBeGreaterThan(0);
    expect((await poison())["dlq-new-messages"]).toBe("ALARM");
  });

  it("does not page for documents rejected for their content (a client fault): no DLQ, no page-tier alarm", async () => {
    const before = { outcomes: await outcomes(), dlq: await dlqVisible() };
    const documents = [
      { body: '{"title": "unterminated', contentType: "application/json" },
      { body: "   \n\t  \n", contentType: "text/plain" },
    ];
    for (const { body, contentType } of documents) {
      const res = await submitText(stack.apiUrl, stack.key, body, { contentType });
      expect(res.status, body).toBe(202);
    }
    await waitFor(
      async () => ((await outcomes()).rejected ?? 0) >= (before.outcomes.rejected ?? 0) + documents.length,
      30_000,
      "both documents to be rejected",
    );
    // Past every visibility timeout and receive a retry would need: nothing went to the DLQ.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const after = { outcomes: await outcomes(), dlq: await dlqVisible() };
    expect(after.dlq).toBe(before.dlq);
    expect(pageTierStates(before, after)).toEqual({ "jobs-failed": "OK", "dlq-new-messages": "OK" });
  });
});
