// The API's one route table. The router (and its HEAD and 405 + Allow answers), the telemetry
// route-label set (services/telemetry/src/http-routes.ts, `npm run generate`) and /openapi.json are
// all derived from ROUTES; adding a route here is the whole change.
import { CONTENT_TYPES, type Logger } from "@content-engine/core";
import { getQuery, type H3Event } from "h3";
import { z } from "zod";
import type { ApiContext } from "./app.ts";
import { docsAsset, docsPage } from "./docs.ts";
import { createJob, getJob, getJobResult, jobView } from "./jobs-service.ts";
import { checkReadiness } from "./ready.ts";
import {
  createJobQuerySchema,
  errorSchema,
  healthSchema,
  jobAcceptedSchema,
  jobIdParamSchema,
  jobViewSchema,
  readySchema,
  resultSchema,
  tasksSchema,
} from "./schemas.ts";

export type RouteMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** `apiKey`: `Authorization: Bearer <key>`, checked before anything else; the handler gets the tenant. */
export type RouteAuth = "apiKey" | "none";

type JsonSchema = Record<string, unknown>;

export interface RouteResponse {
  description: string;
  /** An `application/json` body; a schema with a zod `meta({ id })` becomes a named component. */
  json?: z.ZodType;
  /** Any other body, as OpenAPI writes it (`{"text/html": {schema: {type: "string"}}}`). */
  content?: Record<string, { schema: JsonSchema }>;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

/** What the router hands a handler: everything parsed, authenticated and bound to this request. */
export interface RouteContext<P, H> {
  api: ApiContext;
  requestId: string;
  log: Logger;
  /** The authenticated tenant (`apiKey` routes); "" on public routes. */
  tenant: string;
  /** Path parameters, parsed by the route's `params` schema. */
  params: P;
  /** Request headers, parsed by the route's `headers` schema (only the declared ones). */
  headers: H;
  /**
   * Aborts when the connection fails before the response is sent (the client went away, or bytes
   * after this request did not parse): work that would create something must stop and undo.
   */
  signal: AbortSignal;
}

export interface RouteSpec<P = Record<string, never>, H = Record<string, never>> {
  method: RouteMethod;
  /** h3 path template (`/v1/jobs/:id`); OpenAPI gets `/v1/jobs/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  auth: RouteAuth;
  /** Path parameters; a value that does not parse answers 404 with `invalidParams`. */
  params?: z.ZodType<P>;
  invalidParams?: { code: string; message: string };
  /** Query parameters, documented (parsed where the work is done). */
  query?: z.ZodObject;
  /**
   * Request headers: parsed before the handler (a bad value answers 400 `invalid_header` naming the
   * header) and documented as header parameters. Keys are lower-case header names.
   */
  headers?: z.ZodType<H>;
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<number, RouteResponse>;
  /** false: served and counted, but left out of /openapi.json (static assets). Default true. */
  documented?: boolean;
  handler(event: H3Event, ctx: RouteContext<P, H>): unknown;
}

/** A route of the table: type-checks the handler against its own schemas, then joins the table. */
// biome-ignore lint/suspicious/noExplicitAny: the table holds routes of every parameter shape.
export type AnyRoute = RouteSpec<any, any>;
export const defineRoute = <P = Record<string, never>, H = Record<string, never>>(
  route: RouteSpec<P, H>,
): AnyRoute => route;

const errorResponse = (description: string): RouteResponse => ({ description, json: errorSchema });
const html = { "text/html": { schema: { type: "string" } } };

/** A job id in the path: anything but a UUID is a job that does not exist. */
const jobIdParams = {
  params: jobIdParamSchema,
  invalidParams: { code: "job_not_found", message: "no such job (job ids are UUIDs)" },
};
const jobReadErrors = {
  404: errorResponse("Unknown job, or a job of another tenant (code `job_not_found`)."),
  503: errorResponse("Job storage does not answer (code `storage_unavailable`); retry after `Retry-After`."),
};

export const ROUTES: readonly AnyRoute[] = [
  defineRoute({
    method: "POST",
    path: "/v1/jobs",
    operationId: "createJob",
    summary: "Upload a document and queue a job",
    auth: "apiKey",
    query: createJobQuerySchema,
    requestBody: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: {
            type: "object",
            required: ["file"],
            properties: {
              file: { type: "string", format: "binary", description: `One of ${CONTENT_TYPES.join(", ")}` },
              tasks: z.toJSONSchema(tasksSchema, { io: "input", unrepresentable: "any" }) as JsonSchema,
            },
          },
        },
        // Raw bodies: any text, or any JSON document for application/json.
        ...Object.fromEntries(
          CONTENT_TYPES.map((t) => [t, { schema: t === "application/json" ? {} : { type: "string" } }]),
        ),
      },
    },
    responses: {
      202: {
        description: "Stored and queued; processing happens in the background.",
        headers: { Location: { schema: { type: "string" }, description: "URL of the job" } },
        json: jobAcceptedSchema,
      },
      400: errorResponse("Missing file, empty file, malformed multipart, unknown task."),
      413: errorResponse("Larger than the upload limit (code `payload_too_large`); nothing is stored."),
      415: errorResponse("Unsupported media type (code `unsupported_media_type`)."),
      431: errorResponse(
        "Request line or headers over the server's 16 KiB limit (code `headers_too_large`).",
      ),
      503: errorResponse("S3 or SQS unavailable; nothing half-made is left. Retry after `Retry-After`."),
    },
    async handler(event, ctx) {
      const { api } = ctx;
      const node = event.runtime?.node?.req;
      const record = await createJob(
        {
          s3: api.deps.s3,
          sqs: api.sqsUntil(ctx.signal),
          jobs: api.deps.jobs,
          bucket: api.deps.config.bucket,
          queueUrl: api.deps.config.queueUrl,
          maxUploadBytes: api.deps.config.maxUploadBytes,
          onUploaded: (bytes) => api.metrics.uploadBytes.inc(bytes),
          onEnqueued: () => api.metrics.jobsEnqueued.inc(),
          // A client that went away is not a failure of S3 or SQS.
          onEnqueueFailure: (stage) => {
            if (!ctx.signal.aborted) api.metrics.enqueueFailures.inc({ stage });
          },
        },
        {
          req: node ? { headers: node.headers, body: node } : api.webRequestSource(event),
          tenant: ctx.tenant,
          requestId: ctx.requestId,
          query: getQuery(event),
          log: ctx.log.child({ tenant: ctx.tenant }),
        },
      );
      const self = `/v1/jobs/${record.jobId}`;
      return Response.json(
        { jobId: record.jobId, status: "queued", links: { self, result: `${self}/result` } },
        { status: 202, headers: { location: self } },
      );
    },
  }),
  defineRoute({
    method: "GET",
    path: "/v1/jobs/:id",
    operationId: "getJob",
    summary: "Job status",
    auth: "apiKey",
    ...jobIdParams,
    responses: {
      200: { description: "The job", json: jobViewSchema },
      ...jobReadErrors,
    },
    handler: async (_event, ctx) => jobView(await getJob(ctx.api.deps.jobs, ctx.tenant, ctx.params.id)),
  }),
  defineRoute({
    method: "GET",
    path: "/v1/jobs/:id/result",
    operationId: "getJobResult",
    summary: "Job result",
    auth: "apiKey",
    ...jobIdParams,
    responses: {
      200: { description: "The analysis", json: resultSchema },
      ...jobReadErrors,
      409: errorResponse("Not finished yet (`not_ready`) or failed (`job_failed`)."),
    },
    handler: (_event, ctx) => getJobResult(ctx.api.deps.jobs, ctx.tenant, ctx.params.id),
  }),
  defineRoute({
    method: "GET",
    path: "/health",
    operationId: "health",
    summary: "Liveness",
    auth: "none",
    responses: { 200: { description: "Alive", json: healthSchema } },
    handler: () => ({ status: "healthy", service: "content-engine" }),
  }),
  defineRoute({
    method: "GET",
    path: "/ready",
    operationId: "ready",
    summary: "Readiness: the bucket and the queue answer",
    auth: "none",
    responses: {
      200: { description: "Ready", json: readySchema },
      503: {
        description: "A dependency does not answer; `checks` names it and an error code, never an address",
        json: readySchema,
      },
    },
    async handler(_event, ctx) {
      const { deps } = ctx.api;
      const ready = await checkReadiness({
        s3: deps.s3,
        sqs: deps.sqs,
        bucket: deps.config.bucket,
        queueUrl: deps.config.queueUrl,
      });
      return Response.json(ready.body, {
        status: ready.ok ? 200 : 503,
        headers: ready.ok ? {} : { "retry-after": "5" },
      });
    },
  }),
  defineRoute({
    method: "GET",
    path: "/metrics",
    operationId: "metrics",
    summary: "Prometheus metrics",
    auth: "none",
    responses: {
      200: {
        description: "Prometheus text format",
        content: { "text/plain": { schema: { type: "string" } } },
      },
    },
    handler: async (_event, { api }) =>
      new Response(await api.registry.metrics(), { headers: { "content-type": api.registry.contentType } }),
  }),
  defineRoute({
    method: "GET",
    path: "/openapi.json",
    operationId: "openapi",
    summary: "This document",
    auth: "none",
    responses: {
      200: { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } },
    },
    handler: (_event, { api }) =>
      new Response(api.openapi, { headers: { "content-type": "application/json" } }),
  }),
  defineRoute({
    method: "GET",
    path: "/docs",
    operationId: "docs",
    summary: "Interactive API documentation (served locally, works offline)",
    auth: "none",
    responses: { 200: { description: "HTML page", content: html } },
    handler: () => docsPage(),
  }),
  defineRoute({
    method: "GET",
    path: "/docs/:asset",
    operationId: "docsAsset",
    summary: "A Swagger UI file of /docs",
    auth: "none",
    documented: false,
    responses: { 200: { description: "The file" } },
    handler: (event) => docsAsset(event.context.params?.asset ?? ""),
  }),
  defineRoute({
    method: "GET",
    path: "/",
    operationId: "webConsole",
    summary: "The web console",
    auth: "none",
    documented: false,
    responses: { 200: { description: "HTML page", content: html } },
    handler: (_event, { api }) => api.web.index(),
  }),
  defineRoute({
    method: "GET",
    path: "/assets/:file",
    operationId: "webConsoleAsset",
    summary: "A content-hashed file of the web console",
    auth: "none",
    documented: false,
    responses: { 200: { description: "The file" } },
    handler: (event, { api }) => api.web.asset(event.context.params?.file ?? ""),
  }),
  defineRoute({
    method: "GET",
    path: "/config.json",
    operationId: "webConsoleConfig",
    summary: "The limits the web console shows (upload size)",
    auth: "none",
    documented: false,
    responses: { 200: { description: "`{maxUploadBytes}`" } },
    handler: (_event, { api }) => api.web.config(),
  }),
];

/** The label set of the `route` label of the HTTP metrics: every path template, and `unmatched`. */
export function routeLabelSet(routes: readonly AnyRoute[] = ROUTES): string[] {
  return [...new Set(routes.map((r) => r.path)), "unmatched"];
}

/** The methods each path answers, as its `Allow` header says them: HEAD wherever GET is. */
export function allowedMethods(routes: readonly AnyRoute[] = ROUTES): Map<string, string> {
  const byPath = new Map<string, Set<string>>();
  for (const route of routes) {
    const methods = byPath.get(route.path) ?? new Set<string>();
    methods.add(route.method);
    if (route.method === "GET") methods.add("HEAD");
    byPath.set(route.path, methods);
  }
  const order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
  return new Map(
    [...byPath].map(([path, methods]) => [path, order.filter((m) => methods.has(m)).join(", ")]),
  );
}
