// The HTTP edge over real sockets: HEAD, parser-level errors, bytes that do not parse after a
// complete upload, security headers, /ready without addresses, and AWS calls with a deadline.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiApp, Keyring, startApiServer } from "@content-engine/api";
import { createLogger, createS3Client, createSqsClient, JobStore, loadConfig } from "@content-engine/core";
import { serve } from "h3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settleOpen, startSilentBackend } from "../../core/test/silent-backend.ts";
import { bearer, listKeys, queueCounts, serviceEnv, startTestStack, submitText, waitFor } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let webDir: string;

beforeAll(async () => {
  webDir = mkdtempSync(join(tmpdir(), "ce-console-"));
  writeFileSync(join(webDir, "index.html"), "<!doctype html><title>console</title>");
  process.env.CONTENT_ENGINE_WEB_DIR = webDir;
  stack = await startTestStack({ worker: false, maxUploadBytes: 1024 * 1024 });
});
afterAll(async () => {
  await stack?.stop();
  delete process.env.CONTENT_ENGINE_WEB_DIR;
  rmSync(webDir, { recursive: true, force: true });
});

/** Another API on the same stack with some configuration changed. */
async function apiWith(env: Record<string, string>) {
  const config = loadConfig({ ...serviceEnv(stack), PORT: "0", LOG_LEVEL: "silent", ...env });
  return startApiServer(config, createLogger("api", "silent"));
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes raw bytes on one connection and reads everything the server sends until it closes. */
function exchange(url: string, bytes: string | Buffer): Promise<RawAnswer[]> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => resolve(parseAnswers(Buffer.concat(chunks).toString("latin1"))));
    socket.setTimeout(15_000, () => socket.destroy(new Error("no answer within 15 s")));
    socket.write(bytes);
  });
}

function parseAnswers(text: string): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let rest = text;
  while (rest.startsWith("HTTP/1.1 ")) {
    const end = rest.indexOf("\r\n\r\n");
    const [statusLine, ...lines] = rest.slice(0, end).split("\r\n");
    const headers = Object.fromEntries(
      lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
    );
    const length = Number(headers["content-length"] ?? 0);
    const body = rest.slice(end + 4, end + 4 + length);
    answers.push({ status: Number(statusLine!.split(" ")[1]), headers, body });
    rest = rest.slice(end + 4 + length);
  }
  return answers;
}

async function stored() {
  return {
    uploads: await listKeys(stack.s3, stack.config.bucket, "uploads/"),
    jobs: await listKeys(stack.s3, stack.config.bucket, "jobs/"),
    queue: await queueCounts(stack.sqs, stack.config.queueUrl),
  };
}

function expectJsonError(answer: RawAnswer | undefined, status: number, code: string) {
  expect(answer?.status).toBe(status);
  expect(answer?.headers["content-type"]).toBe("application/json");
  expect(answer?.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  expect(answer?.headers["x-content-type-options"]).toBe("nosniff");
  const body = JSON.parse(answer?.body ?? "") as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
}

const host = () => `Host: ${new URL(stack.apiUrl).host}\r\n`;

describe("HEAD", () => {
  it("answers wherever GET does, with GET's status and headers and no body", async () => {
    const created = (await (await submitText(stack.apiUrl, stack.key, "A document to look at.")).json()) as {
      jobId: string;
    };
    const paths = [
      "/health",
      "/ready",
      "/metrics",
      "/openapi.json",
      "/docs",
      "/",
      `/v1/jobs/${created.jobId}`,
      `/v1/jobs/${created.jobId}/result`,
    ];
    for (const path of paths) {
      const get = await fetch(`${stack.apiUrl}${path}`, { headers: bearer(stack.key) });
      const head = await fetch(`${stack.apiUrl}${path}`, { method: "HEAD", headers: bearer(stack.key) });
      expect(head.status, path).toBe(get.status);
      expect(head.status, path).toBeLessThan(500);
      expect(head.status, path).not.toBe(405);
      expect(head.headers.get("content-type"), path).toBe(get.headers.get("content-type"));
      expect(await head.text(), path).toBe("");
    }
  });

  it("is listed in Allow wherever GET is", async () => {
    const res = await fetch(`${stack.apiUrl}/ready`, { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });
});

describe("bytes Node's HTTP parser refuses", () => {
  it("answers headers over 16 KiB with 431 in the JSON error form", async () => {
    const [answer] = await exchange(
      stack.apiUrl,
      `GET /health HTTP/1.1\r\n${host()}X-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expectJsonError(answer, 431, "headers_too_large");
    // Counted like any other answered request, so the dashboards' 4xx rate sees it.
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /content_engine_http_requests_total\{method="OTHER",route="unmatched",status="4xx"\} [1-9]/,
    );
  });

  it("answers garbage instead of a request line with 400 in the JSON error form", async () => {
    const [answer] = await exchange(stack.apiUrl, "\u0000\u0001 not http at all\r\n\r\n");
    expectJsonError(answer, 400, "malformed_request");
  });

  it("answers Content-Length together with Transfer-Encoding with 400, and stores nothing", async () => {
    const before = await stored();
    const [answer] = await exchange(
      stack.apiUrl,
      `POST /v1/jobs HTTP/1.1\r\n${host()}Authorization: Bearer ${stack.key}\r\nContent-Type: text/plain\r\n` +
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    expectJsonError(answer, 400, "malformed_request");
    expect(await stored()).toEqual(before);
  });

  it("answers a malformed chunked body with 400 in the JSON error form", async () => {
    const [answer] = await exchange(
      stack.apiUrl,
      `POST /v1/jobs HTTP/1.1\r\n${host()}Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n`,
    );
    expectJsonError(answer, 400, "malformed_request");
  });

  it("creates no job from a complete upload followed by bytes that do not parse", async () => {
    const before = await stored();
    const metricsBefore = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    const counted = (text: string) =>
      [
        ...text.matchAll(
          /content_engine_http_requests_total\{method="POST",route="\/v1\/jobs",status="\dxx"\} (\d+)/g,
        ),
      ]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
    const body = "A complete document, then the connection carries garbage.";
    const answers = await exchange(
      stack.apiUrl,
      `POST /v1/jobs HTTP/1.1\r\n${host()}Authorization: Bearer ${stack.key}\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}\u0000\u0001garbage\r\n\r\n`,
    );
    expect(answers).toHaveLength(1);
    expectJsonError(answers[0], 400, "malformed_request");
    // The upload handler ran on: wait until the API has counted its answer, then look.
    await waitFor(
      async () => counted(await (await fetch(`${stack.apiUrl}/metrics`)).text()) > counted(metricsBefore),
      20_000,
      "the POST to be answered",
    );
    expect(await stored()).toEqual(before);
  });
});

describe("security headers", () => {
  it("send nosniff on JSON answers, errors and 405s", async () => {
    for (const [method, path] of [
      ["GET", "/health"],
      ["GET", "/openapi.json"],
      ["GET", "/no/such/route"],
      ["PUT", "/health"],
      ["GET", "/v1/jobs/00000000-0000-4000-8000-000000000000"],
    ] as const) {
      const res = await fetch(`${stack.apiUrl}${path}`, { method });
      expect(res.headers.get("x-content-type-options"), `${method} ${path}`).toBe("nosniff");
    }
  });

  it("send HSTS on answers to requests that came over HTTPS (the load balancer's x-forwarded-proto), and not over plain HTTP", async () => {
    for (const [method, path] of [
      ["GET", "/health"],
      ["GET", "/no/such/route"],
      ["GET", "/docs"],
    ] as const) {
      const https = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: { "x-forwarded-proto": "https" },
      });
      expect(https.headers.get("strict-transport-security"), `${method} ${path}`).toBe(
        "max-age=31536000; includeSubDomains",
      );
      const plain = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: { "x-forwarded-proto": "http" },
      });
      expect(plain.headers.get("strict-transport-security"), `${method} ${path}`).toBeNull();
    }
    const direct = await fetch(`${stack.apiUrl}/health`);
    expect(direct.headers.get("strict-transport-security")).toBeNull();
  });

  it("forbid framing /docs and the console, and keep their scripts to this origin", async () => {
    for (const path of ["/docs", "/"]) {
      const res = await fetch(`${stack.apiUrl}${path}`);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toMatch(/script-src[^;]*unsafe/);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
  });
});

describe("readiness during an outage", () => {
  it("names the failing dependency and no address, host or port", async () => {
    const closed = "http://127.0.0.1:9";
    const api = await apiWith({ AWS_ENDPOINT_URL: closed });
    try {
      const res = await fetch(`${api.url}/ready`);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(text).not.toContain("127.0.0.1");
      expect(text).not.toMatch(/:9\b/);
      expect(JSON.parse(text)).toEqual({
        status: "unavailable",
        checks: { bucket: "error: ECONNREFUSED", queue: "error: ECONNREFUSED" },
        error: { code: "dependency_unavailable", message: "the bucket and queue do not answer" },
      });
    } finally {
      await api.close();
    }
  });
});

describe("a backend that accepts connections and never answers", () => {
  it("costs POST /v1/jobs and GET /v1/jobs/{id} a 503 + Retry-After, not a hang, and no open connection", async () => {
    const silent = await startSilentBackend();
    const api = await apiWith({
      AWS_ENDPOINT_URL: silent.url,
      CONTENT_ENGINE_AWS_REQUEST_TIMEOUT_MS: "300",
      CONTENT_ENGINE_AWS_MAX_ATTEMPTS: "2",
    });
    try {
      // 2 attempts × 300 ms plus the SDK's short backoff; 10 s only tells "answered" from "hung".
      const started = performance.now();
      const upload = await submitText(api.url, stack.key, "Is anyone there?");
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(upload.status).toBe(503);
      expect(upload.headers.get("retry-after")).toBe("5");
      expect(((await upload.json()) as { error: { code: string } }).error.code).toBe("storage_unavailable");

      const read = await fetch(`${api.url}/v1/jobs/00000000-0000-4000-8000-000000000000`, {
        headers: bearer(stack.key),
      });
      expect(read.status).toBe(503);
      expect(read.headers.get("retry-after")).toBe("5");

      const ready = await fetch(`${api.url}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).not.toContain("127.0.0.1");

      // Every attempt's connection was given up and closed.
      expect(silent.accepted()).toBeGreaterThan(0);
      expect(await settleOpen(silent)).toBe(0);
    } finally {
      await api.close();
      await silent.close();
    }
  });

  it("undoes the upload and the status when the queue hangs after storage took them", async () => {
    const silent = await startSilentBackend();
    const s3 = createS3Client({ region: stack.config.region, endpoint: stack.emulatorUrl });
    const sqs = createSqsClient({
      region: stack.config.region,
      endpoint: silent.url,
      awsRequestTimeoutMs: 300,
      awsMaxAttempts: 2,
    });
    const { app } = createApiApp({
      config: { ...stack.config },
      s3,
      sqs,
      jobs: new JobStore(s3, stack.config.bucket),
      keyring: new Keyring(`${stack.key}:acme`),
      logger: createLogger("api", "silent"),
    });
    const server = serve(app, { port: 0, hostname: "127.0.0.1", silent: true, gracefulShutdown: false });
    await server.ready();
    try {
      const before = await stored();
      const res = await submitText(
        server.url!.replace(/\/$/, ""),
        stack.key,
        "Stored, then the queue hangs.",
      );
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("queue_unavailable");
      expect(await stored()).toEqual(before);
      expect(await settleOpen(silent)).toBe(0);
    } finally {
      await server.close(true);
      await silent.close();
    }
  });
});
