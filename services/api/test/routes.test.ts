import { readFileSync } from "node:fs";
import { createLogger, createS3Client, createSqsClient, JobStore } from "@content-engine/core";
import { catalog, HTTP_ROUTES } from "@content-engine/telemetry";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createApiApp } from "../src/app.ts";
import { Keyring } from "../src/auth.ts";
import { httpRoutesModule } from "../src/route-labels.ts";
import { defineRoute, ROUTES, routeLabelSet } from "../src/routes.ts";

const KEY = "route-table-key-0123456789";

/** The app with the given table; S3 and SQS point at a closed port (these routes never call them). */
function appWith(routes = ROUTES) {
  const clients = { region: "us-east-1", endpoint: "http://127.0.0.1:9" };
  const s3 = createS3Client(clients);
  return createApiApp(
    {
      config: {
        bucket: "unused-bucket",
        queueUrl: "http://127.0.0.1:9/000000000000/q",
        maxUploadBytes: 1024,
      },
      s3,
      sqs: createSqsClient(clients),
      jobs: new JobStore(s3, "unused-bucket"),
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
  responses: { 200: { description: "pong", json: z.object({ pong: z.string() }) } },
  handler: (_event, ctx) => ({
    pong: `${ctx.tenant}:${ctx.params.name}:`.repeat(ctx.headers["x-pong-count"]),
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

    const metrics = await registry.metrics();
    expect(metrics).toMatch(
      /content_engine_http_requests_total\{method="GET",route="\/v1\/ping\/:name",status="2xx"\} 1/,
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
});
