import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { errorSchema, jobAcceptedSchema, jobViewSchema } from "@content-engine/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, listKeys, queueCounts, startTestStack, streamBody, submitText } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  // No worker: the queue is observed directly, jobs stay `queued`.
  stack = await startTestStack({ worker: false, maxUploadBytes: 1024 * 1024 });
});
afterAll(async () => {
  await stack?.stop();
});

async function receiveAll() {
  const out = await stack.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: stack.config.queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
    }),
  );
  for (const m of out.Messages ?? []) {
    await stack.sqs.send(
      new DeleteMessageCommand({ QueueUrl: stack.config.queueUrl, ReceiptHandle: m.ReceiptHandle! }),
    );
  }
  return (out.Messages ?? []).map((m) => JSON.parse(m.Body!));
}

const filenameOf = async (jobId: string) =>
  (
    (await (await fetch(`${stack.apiUrl}/v1/jobs/${jobId}`, { headers: bearer(stack.key) })).json()) as {
      input: { filename: string };
    }
  ).input.filename;

/** Everything the API can write: objects under uploads/ and jobs/, and queue messages. */
async function stored() {
  return {
    uploads: await listKeys(stack.s3, stack.config.bucket, "uploads/"),
    jobs: await listKeys(stack.s3, stack.config.bucket, "jobs/"),
    queue: await queueCounts(stack.sqs, stack.config.queueUrl),
  };
}

/** Runs `act` and asserts it stored nothing at all. */
async function expectNothingStored(act: () => Promise<void>) {
  const before = await stored();
  await act();
  expect(await stored()).toEqual(before);
}

describe("health, readiness, docs", () => {
  it("answers /health with exactly the seed's body", async () => {
    const res = await fetch(`${stack.apiUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"status":"healthy","service":"content-engine"}');
  });

  it("is ready when the bucket and the queue answer", async () => {
    const res = await fetch(`${stack.apiUrl}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { bucket: "ok", queue: "ok" } });
  });

  it("echoes a caller's x-request-id and makes one up otherwise", async () => {
    const echoed = await fetch(`${stack.apiUrl}/health`, { headers: { "x-request-id": "trace-abc.123" } });
    expect(echoed.headers.get("x-request-id")).toBe("trace-abc.123");
    const made = await fetch(`${stack.apiUrl}/health`, {
      headers: { "x-request-id": "bad id\twith spaces" },
    });
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("serves an OpenAPI 3.1 document that covers every route", async () => {
    const doc = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/docs",
        "/health",
        "/metrics",
        "/openapi.json",
        "/ready",
        "/v1/jobs",
        "/v1/jobs/{id}",
        "/v1/jobs/{id}/result",
      ].sort(),
    );
    expect(Object.keys(doc.paths["/v1/jobs"]!.post!.responses)).toEqual(
      expect.arrayContaining(["202", "400", "401", "413", "415", "503"]),
    );
  });

  it("documents every response schema once, and every $ref in the document resolves", async () => {
    const text = await (await fetch(`${stack.apiUrl}/openapi.json`)).text();
    const doc = JSON.parse(text) as { components: { schemas: Record<string, unknown> } };
    const refs = [...text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of new Set(refs)) {
      expect(ref, ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split("/").pop()!], ref).toBeDefined();
    }
  });

  it("answers 405 with Allow for a method a known path does not take", async () => {
    for (const [method, path, allow] of [
      ["PUT", "/v1/jobs", "POST"],
      ["GET", "/v1/jobs", "POST"],
      ["DELETE", "/v1/jobs/00000000-0000-4000-8000-000000000000", "GET, HEAD"],
      ["POST", "/health", "GET, HEAD"],
    ] as const) {
      const res = await fetch(`${stack.apiUrl}${path}`, { method, headers: bearer(stack.key) });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
    }
  });

  it("serves the interactive docs from local assets only (works offline)", async () => {
    const page = await (await fetch(`${stack.apiUrl}/docs`)).text();
    expect(page).toContain("swagger-ui-bundle.js");
    expect(page).not.toMatch(/https?:\/\//);
    for (const asset of ["swagger-ui-bundle.js", "swagger-ui.css", "init.js"]) {
      const res = await fetch(`${stack.apiUrl}/docs/${asset}`);
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(50);
    }
    expect((await fetch(`${stack.apiUrl}/docs/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${stack.apiUrl}/docs/index.html`)).status).toBe(404);
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await fetch(`${stack.apiUrl}/v2/nothing`);
    expect(res.status).toBe(404);
    const body = await res.json();
    expect(errorSchema.strict().safeParse(body).success).toBe(true);
    expect(body).toEqual({
      error: { code: "not_found", message: "no route for GET /v2/nothing" },
    });
  });
});

describe("POST /v1/jobs", () => {
  it("streams a multipart upload to S3, enqueues one message and answers 202 at once", async () => {
    const form = new FormData();
    const text = "A calm and useful document. It has two sentences.";
    form.append("file", new Blob([text], { type: "text/plain" }), "notes.txt");
    form.append("tasks", "summary,sentiment");
    const res = await fetch(`${stack.apiUrl}/v1/jobs`, {
      method: "POST",
      headers: { ...bearer(stack.key), "x-request-id": "req-multipart-1" },
      body: form,
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      jobId: string;
      status: string;
      links: { self: string; result: string };
    };
    expect(body).toEqual({
      jobId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: "queued",
      links: { self: `/v1/jobs/${body.jobId}`, result: `/v1/jobs/${body.jobId}/result` },
    });
    expect(res.headers.get("location")).toBe(`/v1/jobs/${body.jobId}`);
    // What /openapi.json documents is what the API sends.
    expect(jobAcceptedSchema.strict().safeParse(body).success).toBe(true);

    const [message] = await receiveAll();
    expect(message).toEqual({
      jobId: body.jobId,
      tenant: "acme",
      bucket: stack.config.bucket,
      key: `uploads/acme/${body.jobId}`,
      contentType: "text/plain",
      size: text.length,
      tasks: ["summary", "sentiment"],
      requestId: "req-multipart-1",
    });
    // One object: the upload, carrying the job record; no status object until the job ends.
    expect(await listKeys(stack.s3, stack.config.bucket, `uploads/acme/${body.jobId}`)).toEqual([
      message.key,
    ]);
    expect(await listKeys(stack.s3, stack.config.bucket, `jobs/acme/${body.jobId}`)).toEqual([]);

    const status = await (
      await fetch(`${stack.apiUrl}${body.links.self}`, { headers: bearer(stack.key) })
    ).json();
    expect(status).toMatchObject({
      jobId: body.jobId,
      status: "queued",
      input: { filename: "notes.txt", contentType: "text/plain", size: text.length },
    });
    expect(jobViewSchema.strict().safeParse(status).success).toBe(true);
  });

  it.each([
    ["text/plain; charset=utf-8", "text/plain", "document.txt"],
    ["text/markdown", "text/markdown", "document.md"],
    ["text/html", "text/html", "document.html"],
    ["application/json", "application/json", "document.json"],
  ])("accepts a raw %s body", async (header, stored, defaultName) => {
    const res = await submitText(stack.apiUrl, stack.key, '{"text":"hello world"}', { contentType: header });
    expect(res.status).toBe(202);
    const [message] = await receiveAll();
    expect(message.contentType).toBe(stored);
    expect(message.key).toBe(`uploads/acme/${message.jobId}`);
    expect(await filenameOf(message.jobId)).toBe(defaultName);
    expect(message.tasks).toEqual(["summary", "keywords", "sentiment"]);
  });

  it("sanitises filenames with ../, NUL and 4 KB of characters", async () => {
    for (const [name, expected] of [
      ["../../etc/passwd", "passwd"],
      ["a%00b.txt", "ab.txt"],
      [`${"x".repeat(4000)}.txt`, `${"x".repeat(124)}.txt`],
    ] as const) {
      const res = await submitText(stack.apiUrl, stack.key, "Some text.", { query: `?filename=${name}` });
      expect(res.status).toBe(202);
      const [message] = await receiveAll();
      expect(await filenameOf(message.jobId)).toBe(expected);
    }
  });

  it("refuses a missing or wrong API key with 401 before reading the body", async () => {
    await expectNothingStored(async () => {
      for (const headers of [{}, bearer("not-a-valid-key-0000000")]) {
        const res = await fetch(`${stack.apiUrl}/v1/jobs`, {
          method: "POST",
          headers: { ...headers, "content-type": "text/plain" },
          body: "text",
        });
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      }
    });
  });

  it("rejects bad uploads with a specific code and keeps nothing", async () => {
    const cases: Array<[string, RequestInit, number, string]> = [
      ["no content type", { body: new Uint8Array([1, 2, 3]) }, 415, "unsupported_media_type"],
      [
        "unsupported type",
        { headers: { "content-type": "image/png" }, body: "x" },
        415,
        "unsupported_media_type",
      ],
      ["empty raw body", { headers: { "content-type": "text/plain" }, body: "" }, 400, "empty_file"],
      ["unknown task", { headers: { "content-type": "text/plain" }, body: "x" }, 400, "invalid_query"],
      [
        "malformed multipart",
        {
          headers: { "content-type": "multipart/form-data; boundary=XYZ" },
          body: '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nabc',
        },
        400,
        "malformed_multipart",
      ],
      [
        "multipart without boundary",
        { headers: { "content-type": "multipart/form-data" }, body: "x" },
        400,
        "malformed_multipart",
      ],
    ];
    await expectNothingStored(async () => {
      for (const [what, init, status, code] of cases) {
        const query = what === "unknown task" ? "?tasks=summary,translate" : "";
        const res = await fetch(`${stack.apiUrl}/v1/jobs${query}`, {
          method: "POST",
          ...init,
          headers: { ...bearer(stack.key), ...(init.headers as Record<string, string>) },
        });
        expect(res.status, what).toBe(status);
        expect(((await res.json()) as { error: { code: string } }).error.code, what).toBe(code);
      }
    });
  });

  it("rejects forms without a file part, with an empty file, with two files or an unknown task", async () => {
    const noFile = new FormData();
    noFile.append("tasks", "summary");
    const empty = new FormData();
    empty.append("file", new Blob([], { type: "text/plain" }), "empty.txt");
    const twoFiles = new FormData();
    twoFiles.append("file", new Blob(["one"], { type: "text/plain" }), "1.txt");
    twoFiles.append("file", new Blob(["two"], { type: "text/plain" }), "2.txt");
    const badTask = new FormData();
    badTask.append("file", new Blob(["text"], { type: "text/plain" }), "a.txt");
    badTask.append("tasks", "summary,translate");
    const wrongType = new FormData();
    wrongType.append("file", new Blob(["GIF89a"], { type: "image/gif" }), "a.gif");
    const byExtension = new FormData();
    byExtension.append("file", new Blob(["# Title"], { type: "application/octet-stream" }), "readme.md");

    const send = (form: FormData) =>
      fetch(`${stack.apiUrl}/v1/jobs`, { method: "POST", headers: bearer(stack.key), body: form });
    const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

    let res: Response;
    await expectNothingStored(async () => {
      res = await send(noFile);
      expect([res.status, await code(res)]).toEqual([400, "missing_file"]);
      res = await send(empty);
      expect([res.status, await code(res)]).toEqual([400, "empty_file"]);
      res = await send(twoFiles);
      expect([res.status, await code(res)]).toEqual([400, "too_many_files"]);
      res = await send(badTask);
      expect([res.status, await code(res)]).toEqual([400, "invalid_tasks"]);
      res = await send(wrongType);
      expect([res.status, await code(res)]).toEqual([415, "unsupported_media_type"]);
    });

    res = await send(byExtension);
    expect(res.status).toBe(202);
    const [message] = await receiveAll();
    expect(message.contentType).toBe("text/markdown");
  });

  it("answers 413 when a declared Content-Length is over the limit, without reading the body", async () => {
    await expectNothingStored(async () => {
      const res = await streamBody(
        `${stack.apiUrl}/v1/jobs`,
        { ...bearer(stack.key), "content-type": "text/plain" },
        3 * 1024 * 1024,
      );
      expect(res.status).toBe(413);
      expect(res.body.error?.code).toBe("payload_too_large");
    });
  });

  it("answers 413 while streaming a multipart file over the limit and leaves nothing in S3", async () => {
    const boundary = "----content-engine-test";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n`;
    await expectNothingStored(async () => {
      const res = await streamBodyWithPrefix(head, boundary, 3 * 1024 * 1024);
      expect(res.status).toBe(413);
    });
  });
});

describe("GET /v1/jobs/{id}", () => {
  it("shows a tenant its own job, and 404 to another tenant, to unknown ids and to non-ids", async () => {
    const created = (await (await submitText(stack.apiUrl, stack.key, "Mine.")).json()) as { jobId: string };
    await receiveAll();
    const own = await fetch(`${stack.apiUrl}/v1/jobs/${created.jobId}`, { headers: bearer(stack.key) });
    expect(own.status).toBe(200);

    for (const path of [`/v1/jobs/${created.jobId}`, `/v1/jobs/${created.jobId}/result`]) {
      const other = await fetch(`${stack.apiUrl}${path}`, { headers: bearer(stack.otherKey) });
      expect(other.status, path).toBe(404);
      expect(((await other.json()) as { error: { code: string } }).error.code).toBe("job_not_found");
    }
    for (const id of ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "..%2F..%2Fjobs"]) {
      expect((await fetch(`${stack.apiUrl}/v1/jobs/${id}`, { headers: bearer(stack.key) })).status, id).toBe(
        404,
      );
    }
  });

  it("answers 409 not_ready for the result of a job that has not run yet", async () => {
    const created = (await (await submitText(stack.apiUrl, stack.key, "Pending.")).json()) as {
      jobId: string;
    };
    await receiveAll();
    const res = await fetch(`${stack.apiUrl}/v1/jobs/${created.jobId}/result`, {
      headers: bearer(stack.key),
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_ready");
  });

  it("requires the API key to read a job", async () => {
    expect((await fetch(`${stack.apiUrl}/v1/jobs/00000000-0000-4000-8000-000000000000`)).status).toBe(401);
  });
});

describe("GET /metrics", () => {
  it("exposes request, upload and enqueue metrics labelled by route template", async () => {
    const text = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    expect(text).toMatch(
      /content_engine_http_requests_total\{method="POST",route="\/v1\/jobs",status="2xx"\} \d+/,
    );
    expect(text).toMatch(
      /content_engine_http_requests_total\{method="GET",route="\/v1\/jobs\/:id",status="4xx"\} \d+/,
    );
    expect(text).toMatch(
      /content_engine_http_requests_total\{method="GET",route="unmatched",status="4xx"\} \d+/,
    );
    expect(text).toMatch(
      /content_engine_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/health"/,
    );
    expect(text).toMatch(/content_engine_upload_bytes_total [1-9]\d*/);
    expect(text).toMatch(/content_engine_jobs_enqueued_total [1-9]\d*/);
    expect(text).toContain("process_resident_memory_bytes");
    // A job id never becomes a label value.
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
  });
});

function streamBodyWithPrefix(prefix: string, boundary: string, totalBytes: number) {
  return new Promise<{ status: number }>((resolve, reject) => {
    import("node:http").then(({ request }) => {
      const req = request(`${stack.apiUrl}/v1/jobs`, {
        method: "POST",
        headers: {
          ...bearer(stack.key),
          "content-type": `multipart/form-data; boundary=${boundary}`,
          "transfer-encoding": "chunked",
        },
      });
      let answered = false;
      req.on("response", (res) => {
        answered = true;
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      });
      req.on("error", (e) => !answered && reject(e));
      req.write(prefix);
      const chunk = Buffer.alloc(64 * 1024, "b");
      let sent = 0;
      const pump = () => {
        while (sent < totalBytes && !answered && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        if (!answered) req.end(`\r\n--${boundary}--\r\n`);
      };
      pump();
    });
  });
}
