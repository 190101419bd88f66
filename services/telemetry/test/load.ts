// A running local stack that has done a little of everything the catalog measures: accepted and
// processed jobs, answered reads, 4xx and unmatched routes. Shared by the live /metrics test and
// the dashboards' Prometheus test.
import { type startTestStack, submitText, waitFor } from "../../local/test/support.ts";

type TestStack = Awaited<ReturnType<typeof startTestStack>>;

export interface LoadResult {
  jobIds: string[];
}

/** Submits `jobs` jobs, reads them back, provokes a 401, a 404 and an unmatched route, and waits until the worker processed every job. */
export async function driveLoad(stack: TestStack, jobs = 5): Promise<LoadResult> {
  const jobIds: string[] = [];
  for (let i = 0; i < jobs; i++) {
    const response = await submitText(
      stack.apiUrl,
      stack.key,
      `Load job ${i}: the quick brown fox jumps over the lazy dog.`,
    );
    if (response.status !== 202)
      throw new Error(`job ${i} was answered ${response.status}: ${await response.text()}`);
    jobIds.push(((await response.json()) as { jobId: string }).jobId);
  }
  const auth = { authorization: `Bearer ${stack.key}` };
  await fetch(`${stack.apiUrl}/v1/jobs/${jobIds[0]}`, { headers: auth });
  await fetch(`${stack.apiUrl}/v1/jobs/${jobIds[0]}`);
  await fetch(`${stack.apiUrl}/v1/jobs/does-not-exist`, { headers: auth });
  await fetch(`${stack.apiUrl}/no/such/route`);
  await fetch(`${stack.apiUrl}/health`);
  await waitFor(
    async () => {
      const text = await (await fetch(`${stack.workerUrl}/metrics`)).text();
      const done = /content_engine_jobs_processed_total\{outcome="succeeded"\} (\d+)/.exec(text);
      return done !== null && Number(done[1]) >= jobs;
    },
    30_000,
    `the worker to process ${jobs} jobs`,
  );
  return { jobIds };
}
