import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { createCatalogRegistry, type JobStore, type Logger, type RuntimeConfig } from "@content-engine/core";
import { catalog, HTTP_METHODS } from "@content-engine/telemetry";
import { H3, type H3Event } from "h3";
import type { Registry } from "prom-client";
import type { Keyring } from "./auth.ts";
import { requestIdFrom, securityHeaders } from "./edge.ts";
import { errorResponse } from "./error-response.ts";
import { createMessageSender } from "./message-sender.ts";
import { buildOpenApi } from "./openapi.ts";
import type { AnyRoute, ApiContext } from "./route-spec.ts";
import { mountRoutes } from "./router.ts";
import { ROUTES } from "./routes.ts";
import { WebConsole } from "./web.ts";

export interface ApiDeps {
  /** Parsed once, by `loadConfig` (its defaults are the only ones). */
  config: Pick<RuntimeConfig, "bucket" | "queueUrl" | "maxUploadBytes" | "idempotencyTtlSeconds">;
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
 * The HTTP API as an h3 app, mounted from the route table (routes.ts, router.ts). Everything the
 * handlers use is built here, once.
 */
export function createApiApp(deps: ApiDeps, routes: readonly AnyRoute[] = ROUTES): ApiApp {
  const { registry, metrics } = createCatalogRegistry(apiMetricDefinitions);
  const { config } = deps;
  const api: ApiContext = {
    intake: {
      s3: deps.s3,
      jobs: deps.jobs,
      bucket: config.bucket,
      sendMessage: createMessageSender(deps.sqs, config.queueUrl),
      maxUploadBytes: config.maxUploadBytes,
      idempotencyTtlMs: config.idempotencyTtlSeconds * 1000,
      onUploaded: (bytes) => metrics.uploadBytes.inc(bytes),
      onEnqueued: () => metrics.jobsEnqueued.inc(),
      onEnqueueFailure: (stage) => metrics.enqueueFailures.inc({ stage }),
    },
    jobs: deps.jobs,
    readiness: { s3: deps.s3, sqs: deps.sqs, bucket: config.bucket, queueUrl: config.queueUrl },
    registry,
    openapi: JSON.stringify(buildOpenApi(deps.version ?? "0.1.0", routes)),
    web: new WebConsole({ dir: deps.webDir, maxUploadBytes: config.maxUploadBytes }),
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

  mountRoutes(app, routes, { api, keyring: deps.keyring, requestOf: stateOf });

  const countRefused = (status: number) =>
    metrics.httpRequests.inc({
      method: "OTHER",
      route: "unmatched",
      status: `${String(status).charAt(0)}xx`,
    });
  return { app, registry, countRefused };
}
