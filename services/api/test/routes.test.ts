import { readFileSync } from "node:fs";
import { createLogger, createS3Client, createSqsClient, JobStore, loadConfig } from "@content-engine/core";
import { catalog, HTTP_ROUTES } from "@content-engine/telemetry";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createApiApp } from "../src/app.ts";
import { Keyring } from "../src/auth.ts";
import { httpRoutesModule, routeLabelSet } from "../src/route-labels.ts";
import { defineRoute } from "../src/route-spec.ts";
import { ROUTES } from "../src/routes.ts";

const KEY = "route-table-key-0123456789";

/** The app with the given table; S3 and SQS point at a closed port (these routes never call them). */
function appWith(routes = ROUTES) {
  const config = loadConfig({
    CONTENT_ENGINE_BUCKET: "unused-bucket",
    CONTENT_ENGINE_QUEUE_URL: "http://127.0.0.1:9/000000000000/q",
    CONTENT_ENGINE_MAX_UPLOAD_BYTES: "1024",
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  });
  const s3 = createS3Client(config);
  return createApiApp(
    {
      config,
      s3,
      sqs: createSqsClient(config),
      jobs: new JobStore(s3, config.bucket),
      keyring: new Keyring(`${KEY}:acme`),
      logger: createLogger("api", "silent"),
    },
    routes,
  );
}

const ping = defineRoute({
  method: "GET",
  path: "/v1/ping/:name",
  operationId: "ping",
  summary: "Answers pong to a tenant",
  auth: "apiKey",
  params: z.object({ name: z.string().regex(/^[a-z]+$/) }),
  headers: z.object({ "x-pong-count": z.coerce.number().int().min(1).max(3).default(1) }),
  query: z.object({ suffix: z.string().max(3, "suffix: at most 3 characters").default("") }),
  responses: { 200: { description: "pong", json: z.object({ pong: z.string() }) } },
  handler: (_event, ctx) => ({
    pong: `${ctx.tenant}:${ctx.params.name}:`.repeat(ctx.headers["x-pong-count"]) + ctx.query.suffix,
  }),
});

describe("the route table", () => {
  it("is the only place a route is added: the router, HEAD, 405 + Allow, the route label and /openapi.json follow", async () => {
    const { app, registry } = appWith([...ROUTES, ping]);
    const auth = { authorization: `Bearer ${KEY}` };

    const got = await app.request("/v1/ping/bob", { headers: { ...auth, "x-pong-count": "2" } });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ pong: "acme:bob:acme:bob:" });

    const head = await app.request("/v1/ping/bob", { method: "HEAD", headers: auth });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");

    const put = await app.request("/v1/ping/bob", { method: "PUT", headers: auth });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD");

    // Auth, params and the declared header are the table's, enforced before the handler.
    expect((await app.request("/v1/ping/bob")).status).toBe(401);
    expect((await app.request("/v1/ping/BOB", { headers: auth })).status).toBe(404);
    const badHeader = await app.request("/v1/ping/bob", { headers: { ...auth, "x-pong-count": "9" } });
    expect(badHeader.status).toBe(400);
    expect(((await badHeader.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "invalid_header",
      message: expect.stringContaining("x-pong-count"),
    });

    const suffixed = await app.request("/v1/ping/bob?suffix=!", { headers: auth });
    expect(await suffixed.json()).toEqual({ pong: "acme:bob:!" });
    const badQuery = await app.request("/v1/ping/bob?suffix=toolong", { headers: auth });
    expect(badQuery.status).toBe(400);
    expect(((await badQuery.json()) as { error: object }).error).toEqual({
      code: "invalid_query",
      message: "suffix: at most 3 characters",
    });

    const metrics = await registry.metrics();
    expect(metrics).toMatch(
      /content_engine_http_requests_total\{method="GET",route="\/v1\/ping\/:name",status="2xx"\} 2/,
    );
    expect(routeLabelSet([...ROUTES, ping])).toContain("/v1/ping/:name");

    const doc = (await (await app.request("/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<string, { parameters: Array<{ name: string; in: string }>; responses: object }>
      >;
    };
    const operation = doc.paths["/v1/ping/{name}"]?.get;
    expect(operation?.parameters.map((p) => `${p.in}:${p.name}`)).toEqual([
      "path:name",
      "query:suffix",
      "header:x-pong-count",
    ]);
    expect(Object.keys(operation?.responses ?? {})).toEqual(["200", "400", "401"]);
  });

  it("gives the telemetry catalog the route labels of the table (run `npm run generate` when this fails)", () => {
    const generated = readFileSync(new URL("../../telemetry/src/http-routes.ts", import.meta.url), "utf8");
    expect(generated).toBe(httpRoutesModule());
    expect([...HTTP_ROUTES]).toEqual(routeLabelSet());
    expect(catalog.httpRequests.labels.route.values).toEqual(HTTP_ROUTES);
  });

  it("answers HEAD wherever it answers GET, with the same status and headers and no body", async () => {
    const { app } = appWith();
    for (const path of ["/health", "/metrics", "/openapi.json", "/docs", "/docs/init.js", "/config.json"]) {
      const get = await app.request(path);
      const head = await app.request(path, { method: "HEAD" });
      expect(head.status, path).toBe(get.status);
      expect(head.headers.get("content-type"), path).toBe(get.headers.get("content-type"));
      expect(await head.text(), path).toBe("");
    }
    const post = await app.request("/v1/jobs", { method: "HEAD" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("POST");
  });

  it("refuses a query it cannot parse before reading the upload or calling S3", async () => {
    const { app } = appWith();
    const res = await app.request("/v1/jobs?tasks=summary,translate", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "text/plain" },
      body: "some text",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: object }).error).toEqual({
      code: "invalid_query",
      message: "tasks must be a comma list of summary, keywords, sentiment",
    });
  });

  it("answers 405 with Allow and the method_not_allowed form for a method a known path does not take", async () => {
    const { app } = appWith();
    const res = await app.request("/health", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.json()).toEqual({
      error: { code: "method_not_allowed", message: "DELETE is not allowed here; use GET, HEAD" },
    });
  });
});
