import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  createCatalogRegistry,
  type JobStore,
  type Logger,
  type RuntimeConfig,
  ServiceError,
} from "@content-engine/core";
import { catalog, HTTP_METHODS } from "@content-engine/telemetry";
import { H3, type H3Event, type HTTPError } from "h3";
import type { Registry } from "prom-client";
import type { Keyring } from "./auth.ts";
import { errorBody, requestIdFrom, securityHeaders } from "./edge.ts";
import type { JobMessageSender } from "./jobs-service.ts";
import { createMessageSender } from "./message-sender.ts";
import { buildOpenApi } from "./openapi.ts";
import { connectionSignal } from "./request-abort.ts";
import { type AnyRoute, allowedMethods, ROUTES } from "./routes.ts";
import type { UploadSource } from "./upload.ts";
import { WebConsole } from "./web.ts";

export interface ApiDeps {
  config: Pick<RuntimeConfig, "bucket" | "queueUrl" | "maxUploadBytes"> &
    Partial<Pick<RuntimeConfig, "idempotencyTtlSeconds">>;
  s3: S3Client;
  sqs: SQSClient;
  jobs: JobStore;
  keyring: Keyring;
  logger: Logger;
  version?: string;
  /** The built web console; default: services/web/dist (see web.ts). */
  webDir?: string;
}

const apiMetricDefinitions = {
  httpRequests: catalog.httpRequests,
  httpRequestDuration: catalog.httpRequestDuration,
  uploadBytes: catalog.uploadBytes,
  jobsEnqueued: catalog.jobsEnqueued,
  enqueueFailures: catalog.enqueueFailures,
};
type ApiMetrics = ReturnType<typeof createCatalogRegistry<typeof apiMetricDefinitions>>["metrics"];

/** What every route handler may use (routes.ts): the dependencies and the app's own parts. */
export interface ApiContext {
  deps: ApiDeps;
  metrics: ApiMetrics;
  registry: Registry;
  /** The OpenAPI document of this app's routes, serialised once. */
  openapi: string;
  web: WebConsole;
  /** Sends job messages, grouping concurrent requests into SendMessageBatch calls (message-sender.ts). */
  sendMessage: JobMessageSender;
  /** The request body as a Node stream when the app runs outside Node's HTTP server (`app.fetch`). */
  webRequestSource(event: H3Event): UploadSource;
}

interface RequestState {
  requestId: string;
  started: number;
  log: Logger;
}

export interface ApiApp {
  app: H3;
  registry: Registry;
  /** Counts a request Node's parser refused (server.ts) like any other answered request. */
  countRefused(status: number): void;
}

/**
 * The HTTP API as an h3 app, mounted from the route table (routes.ts): each route's method, HEAD
 * wherever GET is, and 405 + `Allow` for every other method on a known path.
 */
export function createApiApp(deps: ApiDeps, routes: readonly AnyRoute[] = ROUTES): ApiApp {
  const { registry, metrics } = createCatalogRegistry(apiMetricDefinitions);
  const api: ApiContext = {
    deps,
    metrics,
    registry,
    openapi: JSON.stringify(buildOpenApi(deps.version ?? "0.1.0", routes)),
    web: new WebConsole({ dir: deps.webDir, maxUploadBytes: deps.config.maxUploadBytes }),
    sendMessage: createMessageSender(deps.sqs, deps.config.queueUrl),
    webRequestSource,
  };
  const state = new WeakMap<H3Event, RequestState>();
  /** The one place a request's id (and its logger) is made. */
  const stateOf = (event: H3Event): RequestState => {
    let s = state.get(event);
    if (!s) {
      const requestId = requestIdFrom(event.req.headers.get("x-request-id"));
      s = { requestId, started: performance.now(), log: deps.logger.child({ requestId }) };
      state.set(event, s);
    }
    return s;
  };

  const app = new H3({
    // errorResponse logs what deserves it; h3 would print every ServiceError as "unhandled".
    silent: true,
    onRequest(event) {
      const s = stateOf(event);
      event.res.headers.set("x-request-id", s.requestId);
      const headers = securityHeaders(event.req.headers.get("x-forwarded-proto"));
      for (const [name, value] of Object.entries(headers)) event.res.headers.set(name, value);
    },
    onResponse(response, event) {
      const s = stateOf(event);
      const seconds = (performance.now() - s.started) / 1000;
      const method = (HTTP_METHODS as readonly string[]).includes(event.req.method)
        ? event.req.method
        : "OTHER";
      // Only table routes are mounted, so a matched template is always one of the route labels.
      const route = event.context.matchedRoute?.route ?? "unmatched";
      const labels = { method, route, status: `${String(response.status).charAt(0)}xx` };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestDuration.observe(labels, seconds);
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

  for (const route of routes) {
    const handler = (event: H3Event) => runRoute(route, event, api, stateOf(event));
    app.on(route.method, route.path, handler);
    if (route.method === "GET") app.on("HEAD", route.path, handler);
  }
  for (const [path, allow] of allowedMethods(routes)) {
    app.all(path, (event) => {
      throw new ServiceError(
        405,
        "method_not_allowed",
        `${event.req.method} is not allowed here; use ${allow}`,
        { headers: { allow } },
      );
    });
  }

  const countRefused = (status: number) =>
    metrics.httpRequests.inc({
      method: "OTHER",
      route: "unmatched",
      status: `${String(status).charAt(0)}xx`,
    });
  return { app, registry, countRefused };
}

/** Authenticates, parses the declared params and headers, then calls the route's handler. */
function runRoute(route: AnyRoute, event: H3Event, api: ApiContext, s: RequestState): unknown {
  const tenant =
    route.auth === "apiKey" ? api.deps.keyring.authenticate(event.req.headers.get("authorization")) : "";
  let params: unknown = {};
  if (route.params) {
    const parsed = route.params.safeParse(event.context.params ?? {});
    const invalid = route.invalidParams ?? { code: "not_found", message: "no such resource" };
    if (!parsed.success) throw new ServiceError(404, invalid.code, invalid.message);
    params = parsed.data;
  }
  let headers: unknown = {};
  if (route.headers) {
    const parsed = route.headers.safeParse(Object.fromEntries(event.req.headers.entries()));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ServiceError(
        400,
        "invalid_header",
        `the ${String(issue.path[0] ?? "request")} header is invalid: ${issue.message}`,
      );
    }
    headers = parsed.data;
  }
  return route.handler(event, {
    api,
    requestId: s.requestId,
    log: s.log,
    tenant,
    params,
    headers,
    signal: connectionSignal(event),
  });
}

function webRequestSource(event: H3Event): UploadSource {
  return {
    headers: Object.fromEntries(event.req.headers.entries()),
    body: event.req.body
      ? Readable.fromWeb(event.req.body as import("node:stream/web").ReadableStream)
      : Readable.from([]),
  };
}

/** Every error leaves as `{"error":{"code","message"}}` with the right status and the request id. */
function errorResponse(error: HTTPError, event: H3Event, s: RequestState): Response {
  const cause = error.cause;
  let status: number;
  let code: string;
  let message: string;
  const headers = new Headers({
    "content-type": "application/json",
    "x-request-id": s.requestId,
    ...securityHeaders(event.req.headers.get("x-forwarded-proto")),
  });
  if (cause instanceof ServiceError) {
    ({ status, code, message } = cause);
    if (cause.retryAfter) headers.set("retry-after", String(cause.retryAfter));
    for (const [name, value] of Object.entries(cause.headers)) headers.set(name, value);
    // A request whose connection already broke was undone on purpose (request-abort.ts): not an outage.
    if (status >= 500 && event.runtime?.node?.res?.destroyed) {
      s.log.info({ code }, "the connection closed before the answer; nothing was kept");
    } else if (status >= 500) s.log.error({ err: cause.cause ?? cause, code }, message);
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
  return new Response(event.req.method === "HEAD" ? null : errorBody(code, message), { status, headers });
}
