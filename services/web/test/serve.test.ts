// The API serves the built console at `/` (services/api/src/web.ts), and still starts without one.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { createApiApp, Keyring } from "@content-engine/api";
import { createLogger, type JobStore } from "@content-engine/core";
import { afterAll, describe, expect, it } from "vitest";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The real API app (routes, error handling, metrics) over a console directory; AWS is never called. */
function apiWithConsoleAt(dir: string) {
  const previous = process.env.CONTENT_ENGINE_WEB_DIR;
  process.env.CONTENT_ENGINE_WEB_DIR = dir;
  try {
    const { app, registry } = createApiApp({
      config: {
        bucket: "b",
        queueUrl: "http://127.0.0.1:1/q",
        maxUploadBytes: 3 * 1024 * 1024,
        idempotencyTtlSeconds: 86_400,
      },
      s3: {} as S3Client,
      sqs: {} as SQSClient,
      jobs: {} as JobStore,
      keyring: new Keyring("serve-test-key-0123456789:acme"),
      logger: createLogger("api", "silent"),
    });
    const get = (path: string) => app.fetch(new Request(`http://127.0.0.1${path}`));
    return { get, registry };
  } finally {
    if (previous === undefined) delete process.env.CONTENT_ENGINE_WEB_DIR;
    else process.env.CONTENT_ENGINE_WEB_DIR = previous;
  }
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ce-web-"));
  dirs.push(dir);
  return dir;
}

describe("without a built console", () => {
  const { get } = apiWithConsoleAt(join(tempDir(), "missing"));

  it("answers / with a JSON 404 that says how to build it", async () => {
    const res = await get("/");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: {
        code: "console_not_built",
        message:
          "the web console is not built: run `npm run build -w @content-engine/web`, or point CONTENT_ENGINE_WEB_DIR at a built console",
      },
    });
  });

  it("still serves the API and the console's limits", async () => {
    expect((await get("/health")).status).toBe(200);
    expect(await (await get("/config.json")).json()).toEqual({ maxUploadBytes: 3 * 1024 * 1024 });
  });
});

describe("with a built console", () => {
  const dir = tempDir();
  mkdirSync(join(dir, "assets"));
  writeFileSync(
    join(dir, "index.html"),
    '<!doctype html><title>console</title><script src="/assets/index-AbC123xy.js"></script>',
  );
  writeFileSync(join(dir, "assets", "index-AbC123xy.js"), "console.log('hi');");
  writeFileSync(join(dir, "assets", "index-Zz99YyXx.css"), "body{margin:0}");
  writeFileSync(join(dir, "secret.txt"), "not for the web");
  const { get, registry } = apiWithConsoleAt(dir);

  it("serves index.html at / with a same-origin-only policy, never cached", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:|\*|unsafe/);
    expect(await res.text()).toContain("<title>console</title>");
  });

  it("serves hashed assets with their type, cached for a year", async () => {
    const js = await get("/assets/index-AbC123xy.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await js.text()).toBe("console.log('hi');");
    const css = await get("/assets/index-Zz99YyXx.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("serves nothing outside assets/ and no unknown asset", async () => {
    for (const path of [
      "/assets/..%2Fsecret.txt",
      "/assets/..%2Findex.html",
      "/assets/%2e%2e%2fsecret.txt",
      "/assets/missing-AbC123xy.js",
      "/assets/.hidden.js",
      "/secret.txt",
      "/index.html",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe("not_found");
    }
  });

  it("counts console requests under their own route labels", async () => {
    await get("/");
    await get("/assets/index-AbC123xy.js");
    const metrics = await registry.metrics();
    expect(metrics).toMatch(
      /content_engine_http_requests_total\{method="GET",route="\/",status="2xx"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /content_engine_http_requests_total\{method="GET",route="\/assets\/:file",status="2xx"\} [1-9]/,
    );
  });
});
