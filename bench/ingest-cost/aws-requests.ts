// AWS requests per job for the ingest-cost bench, counted at the proxy in front of the emulator:
// the uploads, then (content-engine only) the worker until the queue is empty, a status read and a
// result read of every job.
import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { countOperations } from "../../test/support/aws-proxy.ts";
import { newAgent, postDocument, runPool } from "../lib.ts";
import { type Emulator, type ServerSetup, startServer, startWorker, stopProcess } from "./processes.ts";
import { API_KEY, BOUNDARY, LABEL } from "./setup.ts";

export interface JobCost {
  jobs: number;
  ingest: Record<string, number>;
  /** New TCP connections the server opened to AWS while taking the uploads (4 at a time). */
  ingestConnections: number;
  worker?: Record<string, number>;
  statusRead?: Record<string, number>;
  resultRead?: Record<string, number>;
  /** Jobs that ended `succeeded` (content-engine only). */
  succeeded?: number;
  /** Idle ReceiveMessage calls that returned nothing (not a per-job cost). */
  emptyReceives?: number;
}

async function waitQueueDrained(sqs: SQSClient, queueUrl: string, worker: ChildProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  let quietChecks = 0;
  while (Date.now() < deadline) {
    if (worker.exitCode !== null) throw new Error(`the worker exited with ${worker.exitCode}`);
    const { Attributes: a = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const left =
      Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
    quietChecks = left === 0 ? quietChecks + 1 : 0;
    if (quietChecks >= 3) return;
    await sleep(200);
  }
  throw new Error("the worker did not drain the queue within 90 s");
}

export async function countJobCost(
  setup: ServerSetup,
  emulator: Emulator,
  sqs: SQSClient,
  queueUrl: string,
  body: Buffer,
  jobs: number,
): Promise<JobCost> {
  const server = await startServer(setup, emulator.proxy, queueUrl, undefined);
  const agent = newAgent(4);
  try {
    await emulator.reset();
    const jobIds: string[] = [];
    const contentType = `multipart/form-data; boundary=${BOUNDARY}`;
    await runPool(0, jobs, 4, async (i) => {
      const res = await postDocument(agent, server.url, API_KEY, body, `doc-${i}.txt`, contentType);
      if (res.status !== 202) throw new Error(`${LABEL[setup.name]} answered ${res.status}: ${res.body}`);
      jobIds.push((JSON.parse(res.body) as { jobId: string }).jobId);
    });
    const ingest = await emulator.calls();
    const cost: JobCost = {
      jobs,
      ingest: countOperations(ingest.calls),
      ingestConnections: ingest.connections,
    };
    if (setup.name !== "content-engine") return cost;

    // The worker, from source, through the proxy; done when the queue is empty.
    await emulator.reset();
    const worker = startWorker(emulator.proxy, queueUrl);
    try {
      await waitQueueDrained(sqs, queueUrl, worker);
    } finally {
      await stopProcess(worker);
    }
    const workerCalls = (await emulator.calls()).calls;
    cost.emptyReceives = workerCalls.filter((c) => c.empty).length;
    cost.worker = countOperations(workerCalls.filter((c) => !c.empty));

    // One status read and one result read per job, as a client that polls once would.
    const headers = { authorization: `Bearer ${API_KEY}` };
    await emulator.reset();
    let succeeded = 0;
    for (const id of jobIds) {
      const view = (await (await fetch(`${server.url}/v1/jobs/${id}`, { headers })).json()) as {
        status?: string;
      };
      if (view.status === "succeeded") succeeded++;
    }
    cost.statusRead = countOperations((await emulator.calls()).calls);
    await emulator.reset();
    for (const id of jobIds)
      await (await fetch(`${server.url}/v1/jobs/${id}/result`, { headers })).arrayBuffer();
    cost.resultRead = countOperations((await emulator.calls()).calls);
    cost.succeeded = succeeded;
    return cost;
  } finally {
    agent.destroy();
    await stopProcess(server.child);
  }
}
