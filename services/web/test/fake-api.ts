// A scripted stand-in for the HTTP API at the fetch boundary, for the component tests. It answers with
// the contract's shapes (services/api); the browser test runs the console against the real API.
import type { JobResult, JobView } from "../src/api.ts";

export const GOOD_KEY = "good-key-0123456789abcdef";
export const JOB_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f";

export interface Call {
  method: string;
  path: string;
  authorization: string | null;
  body: BodyInit | null | undefined;
}

type Answer = Response | (() => Response);

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function apiError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  return json(status, { error: { code, message } }, headers);
}

export function jobView(status: JobView["status"], extra: Partial<JobView> = {}): JobView {
  return {
    jobId: JOB_ID,
    status,
    createdAt: "2026-11-25T10:00:00.000Z",
    updatedAt: "2026-11-25T10:00:01.000Z",
    input: { filename: "notes.txt", contentType: "text/plain", size: 52 },
    ...extra,
  };
}

export const RESULT: JobResult = {
  jobId: JOB_ID,
  processor: "local",
  model: "content-engine-local-nlp@1",
  tasks: ["summary", "keywords", "sentiment"],
  summary: ["Solar power got cheaper again this year.", "Storage is the next bottleneck."],
  keywords: [
    { term: "solar", score: 0.92 },
    { term: "storage", score: 0.61 },
  ],
  sentiment: { score: 0.42, label: "positive" },
  stats: { characters: 1234, words: 210, sentences: 12, readingTimeSeconds: 63 },
  completedAt: "2026-11-25T10:00:02.000Z",
};

/**
 * A fetch that checks the key like the API does (401 for anything but GOOD_KEY), then answers the
 * scripted queues: `submit` for POST /v1/jobs, `status` for GET /v1/jobs/{id} (the last answer
 * repeats), `result` for GET …/result.
 */
export function fakeApi(
  script: { submit?: Answer[]; status?: Answer[]; result?: Answer[] } = {},
  key = GOOD_KEY,
) {
  const calls: Call[] = [];
  const queues = {
    submit: [...(script.submit ?? [json(202, accepted())])],
    status: [...(script.status ?? [json(200, jobView("succeeded"))])],
    result: [...(script.result ?? [json(200, RESULT)])],
  };
  const next = (q: Answer[]): Response => {
    const answer = (q.length > 1 ? q.shift() : q[0])!;
    return typeof answer === "function" ? answer() : answer.clone();
  };
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), "http://console.test");
    const headers = new Headers(init.headers);
    const method = init.method ?? "GET";
    calls.push({
      method,
      path: url.pathname + url.search,
      authorization: headers.get("authorization"),
      body: init.body,
    });
    if (headers.get("authorization") !== `Bearer ${key}`) {
      return apiError(401, "unauthorized", "missing or unknown API key");
    }
    if (method === "POST" && url.pathname === "/v1/jobs") return next(queues.submit);
    if (url.pathname === `/v1/jobs/${JOB_ID}`) return next(queues.status);
    if (url.pathname === `/v1/jobs/${JOB_ID}/result`) return next(queues.result);
    return apiError(404, "job_not_found", "no such job");
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

export function accepted() {
  return {
    jobId: JOB_ID,
    status: "queued",
    links: { self: `/v1/jobs/${JOB_ID}`, result: `/v1/jobs/${JOB_ID}/result` },
  };
}
