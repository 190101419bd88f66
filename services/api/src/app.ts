import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { HeadBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  createCatalogRegistry,
  type JobStore,
  type Logger,
  type RuntimeConfig,
  ServiceError,
} from "@content-engine/core";
import { catalog, HTTP_METHODS, HTTP_ROUTES } from "@content-engine/telemetry";
import { getQuery, H3, type H3Event, type HTTPError } from "h3";
import type { Registry } from "prom-client";
import type { Keyring } from "./auth.ts";
import { DOCS_HTML, readDocsAsset } from "./docs.ts";
import { createJob, getJob, getJobResult, jobView } from "./jobs-service.ts";
import { createMessageSender } from "./message-sender.ts";
import { buildOpenApi } from "./openapi.ts";
import { jobIdParamSchema } from "./schemas.ts";
import { registerWebConsole } from "./web.ts";

export interface ApiDeps {
  config: Pick<RuntimeConfig, "bucket" | "queueUrl" | "maxUploadBytes"> &
    Partial<Pick<RuntimeConfig, "idempotencyTtlSeconds">>;
  s3: S3Client;
  sqs: SQSClient;
  jobs: JobStore;
  keyring: Keyring;
  logger: Logger;
  version?: string;
}

interface RequestState {
  requestId: string;
  started: number;
  log: Logger;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const READY_TIMEOUT_MS = 2000;

export interface ApiApp {
  app: H3;
  registry: Registry;
}

/** The HTTP API as an h3 app: routes are small and push the work into jobs-service. */
export function createApiApp(deps: ApiDeps): ApiApp {
  const { registry, metrics: m } = createCatalogRegistry({
    httpRequests: catalog.httpRequests,
    httpRequestDuration: catalog.httpRequestDuration,
    uploadBytes: catalog.uploadBytes,
    jobsEnqueued: catalog.jobsEnqueued,
    enqueueFailures: catalog.enqueueFailures,
  });
  const sendMessage = createMessageSender(deps.sqs, deps.config.queueUrl);
  const openapi = JSON.stringify(buildOpenApi(deps.version ?? "0.1.0"));
  const state = new WeakMap<H3Event, RequestState>();
  const stateOf = (event: H3Event): RequestState => {
    let s = state.get(event);
    if (!s) {
      const requestId = randomUUID();
      s = { requestId, started: performance.now(), log: deps.logger.child({ requestId }) };
      state.set(event, s);
    }
    return s;
  };

  const app = new H3({
    // errorResponse logs what deserves it; h3 would print every ServiceError as "unhandled".
    silent: true,
    onRequest(event) {
      const incoming = event.req.headers.get("x-request-id");
      const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      state.set(event, { requestId, started: performance.now(), log: deps.logger.child({ requestId }) });
      event.res.headers.set("x-request-id", requestId);
    },
    onResponse(response, event) {
      const s = stateOf(event);
      const seconds = (performance.now() - s.started) / 1000;
      const method = (HTTP_METHODS as readonly string[]).includes(event.req.method)
        ? event.req.method
        : "OTHER";
      const template = event.context.matchedRoute?.route;
      const route =
        template && (HTTP_ROUTES as readonly string[]).includes(template) ? template : "unmatched";
      const labels = { method, route, status: `${String(response.status).charAt(0)}xx` };
      m.httpRequests.inc(labels);
      m.httpRequestDuration.observe(labels, seconds);
      s.log.info(
        {
          method: event.req.method,
          route,
          path: event.url.pathname,
          status: response.status,
          ms: Math.round(seconds * 1000),
        },
        "request",
      );
    },
    onError(error, event) {
      return errorResponse(error, event, stateOf(event));
    },
  });

  app.get("/health", () => ({ status: "healthy", service: "content-engine" }));

  app.get("/ready", async () => {
    const [bucket, queue] = await Promise.all([
      check(() => deps.s3.send(new HeadBucketCommand({ Bucket: deps.config.bucket }), timeout())),
      check(() =>
        deps.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: deps.config.queueUrl, AttributeNames: ["QueueArn"] }),
          timeout(),
        ),
      ),
    ]);
    const ok = bucket === "ok" && queue === "ok";
    const failed = [bucket === "ok" ? "" : "bucket", queue === "ok" ? "" : "queue"]
      .filter(Boolean)
      .join(" and ");
    const body = ok
      ? { status: "ready", checks: { bucket, queue } }
      : {
          status: "unavailable",
          checks: { bucket, queue },
          error: {
            code: "dependency_unavailable",
            message: `the ${failed} ${bucket !== "ok" && queue !== "ok" ? "do" : "does"} not answer`,
          },
        };
    return Response.json(body, { status: ok ? 200 : 503, headers: ok ? {} : { "retry-after": "5" } });
  });

  app.get("/metrics", async () => {
    return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
  });

  app.get("/openapi.json", () => new Response(openapi, { headers: { "content-type": "application/json" } }));
  app.get(
    "/docs",
    () => new Response(DOCS_HTML, { headers: { "content-type": "text/html; charset=utf-8" } }),
  );
  app.get("/docs/:asset", async (event) => {
    const asset = await readDocsAsset(event.context.params?.asset ?? "");
    if (!asset) throw new ServiceError(404, "not_found", "no such docs asset");
    return new Response(typeof asset.body === "string" ? asset.body : new Uint8Array(asset.body), {
      headers: { "content-type": asset.type, "cache-control": "public, max-age=86400" },
    });
  });

  // The web console (services/web) at `/`, its assets and `/config.json`; a JSON 404 until it is built.
  registerWebConsole(app, { maxUploadBytes: deps.config.maxUploadBytes });

  app.post("/v1/jobs", async (event) => {
    const tenant = deps.keyring.authenticate(event.req.headers.get("authorization"));
    const s = stateOf(event);
    const node = event.runtime?.node?.req;
    const source = node
      ? { headers: node.headers, body: node }
      : {
          headers: Object.fromEntries(event.req.headers.entries()),
          body: event.req.body
            ? Readable.fromWeb(event.req.body as import("node:stream/web").ReadableStream)
            : Readable.from([]),
        };
    const { record, replayed } = await createJob(
      {
        s3: deps.s3,
        jobs: deps.jobs,
        bucket: deps.config.bucket,
        sendMessage,
        maxUploadBytes: deps.config.maxUploadBytes,
        idempotencyTtlMs: (deps.config.idempotencyTtlSeconds ?? 86_400) * 1000,
        onUploaded: (bytes) => m.uploadBytes.inc(bytes),
        onEnqueued: () => m.jobsEnqueued.inc(),
        onEnqueueFailure: (stage) => m.enqueueFailures.inc({ stage }),
      },
      {
        req: source,
        tenant,
        requestId: s.requestId,
        query: getQuery(event),
        idempotencyKey: event.req.headers.get("idempotency-key"),
        log: s.log.child({ tenant }),
      },
    );
    const self = `/v1/jobs/${record.jobId}`;
    return Response.json(
      { jobId: record.jobId, status: "queued", links: { self, result: `${self}/result` } },
      { status: 202, headers: { location: self, ...(replayed ? { "idempotent-replayed": "true" } : {}) } },
    );
  });

  app.get("/v1/jobs/:id", async (event) => {
    const tenant = deps.keyring.authenticate(event.req.headers.get("authorization"));
    return jobView(await getJob(deps.jobs, tenant, jobIdOf(event)));
  });

  app.get("/v1/jobs/:id/result", async (event) => {
    const tenant = deps.keyring.authenticate(event.req.headers.get("authorization"));
    return getJobResult(deps.jobs, tenant, jobIdOf(event));
  });

  // Known paths answer other methods with 405 and the methods they do allow.
  const allowed: Record<string, string> = {
    "/v1/jobs": "POST",
    "/v1/jobs/:id": "GET, HEAD",
    "/v1/jobs/:id/result": "GET, HEAD",
    "/health": "GET, HEAD",
    "/ready": "GET, HEAD",
    "/metrics": "GET, HEAD",
    "/openapi.json": "GET, HEAD",
    "/docs": "GET, HEAD",
    "/docs/:asset": "GET, HEAD",
  };
  for (const [route, allow] of Object.entries(allowed)) {
    app.all(route, (event) => {
      throw new ServiceError(
        405,
        "method_not_allowed",
        `${event.req.method} is not allowed here; use ${allow}`,
        {
          headers: { allow },
        },
      );
    });
  }

  return { app, registry };
}

function jobIdOf(event: H3Event): string {
  const parsed = jobIdParamSchema.safeParse(event.context.params ?? {});
  if (!parsed.success) throw new ServiceError(404, "job_not_found", "no such job (job ids are UUIDs)");
  return parsed.data.id;
}

function timeout() {
  return { abortSignal: AbortSignal.timeout(READY_TIMEOUT_MS) };
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await probe();
    return "ok";
  } catch (error) {
    const e = error as { name?: string; message?: string };
    return `error: ${e.name ?? "Error"}${e.message ? ` (${e.message.slice(0, 120)})` : ""}`;
  }
}

/** Every error leaves as `{"error":{"code","message"}}` with the right status and the request id. */
function errorResponse(error: HTTPError, event: H3Event, s: RequestState): Response {
  const cause = error.cause;
  let status: number;
  let code: string;
  let message: string;
  const headers = new Headers({ "content-type": "application/json", "x-request-id": s.requestId });
  if (cause instanceof ServiceError) {
    ({ status, code, message } = cause);
    if (cause.retryAfter) headers.set("retry-after", String(cause.retryAfter));
    for (const [name, value] of Object.entries(cause.headers)) headers.set(name, value);
    if (status >= 500) s.log.error({ err: cause.cause ?? cause, code }, message);
  } else if (!error.unhandled && error.status === 404) {
    status = 404;
    code = "not_found";
    message = `no route for ${event.req.method} ${event.url.pathname.slice(0, 200)}`;
  } else if (!error.unhandled && error.status === 405) {
    status = 405;
    code = "method_not_allowed";
    message = `${event.req.method} is not allowed on ${event.url.pathname.slice(0, 200)}`;
  } else if (!error.unhandled && error.status < 500) {
    status = error.status;
    code = "bad_request";
    message = error.message;
  } else {
    status = 500;
    code = "internal";
    message = "an internal error occurred; quote the x-request-id when reporting it";
    s.log.error({ err: cause ?? error }, "unhandled error");
  }
  // A request body that was not read to the end (e.g. a 413 mid-upload) must not hold the connection.
  const node = event.runtime?.node?.req;
  const hasBody =
    node &&
    (node.headers["transfer-encoding"] !== undefined || Number(node.headers["content-length"] ?? 0) > 0);
  if (node && hasBody && !node.readableEnded) headers.set("connection", "close");
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers });
}
