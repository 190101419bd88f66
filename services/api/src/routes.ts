// The API's one route table: adding a route is one entry here (services/api/README.md, "Add a
// route"). The router (and its HEAD and 405 + Allow answers), the parsing of each route's params,
// headers and query, the telemetry route-label set (services/telemetry/src/http-routes.ts,
// `npm run generate`) and /openapi.json all follow from ROUTES.
import { CONTENT_TYPES } from "@content-engine/core";
import { z } from "zod";
import { docsAsset, docsPage } from "./docs.ts";
import { createJob, getJob, getJobResult, jobView } from "./jobs-service.ts";
import { documentedError } from "./openapi.ts";
import { checkReadiness } from "./ready.ts";
import { type AnyRoute, defineRoute, type JsonSchema } from "./route-spec.ts";
import {
  createJobHeadersSchema,
  createJobQuerySchema,
  healthSchema,
  jobAcceptedSchema,
  jobIdParamSchema,
  jobViewSchema,
  readySchema,
  resultSchema,
  tasksSchema,
} from "./schemas.ts";
import { uploadSourceOf } from "./upload.ts";

const html = { "text/html": { schema: { type: "string" } } };

/** A job id in the path: anything but a UUID is a job that does not exist. */
const jobIdParams = {
  params: jobIdParamSchema,
  invalidParams: { code: "job_not_found", message: "no such job (job ids are UUIDs)" },
};
const jobReadErrors = {
  404: documentedError("Unknown job, or a job of another tenant (code `job_not_found`)."),
  503: documentedError(
    "Job storage does not answer (code `storage_unavailable`); retry after `Retry-After`.",
  ),
};

export const ROUTES: readonly AnyRoute[] = [
  defineRoute({
    method: "POST",
    path: "/v1/jobs",
    operationId: "createJob",
    summary: "Upload a document and queue a job",
    auth: "apiKey",
    query: createJobQuerySchema,
    headers: createJobHeadersSchema,
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
        headers: {
          Location: { schema: { type: "string" }, description: "URL of the job" },
          "Idempotent-Replayed": {
            schema: { type: "string", enum: ["true"] },
            description: "Present when an Idempotency-Key named an existing job, which is returned.",
          },
        },
        json: jobAcceptedSchema,
      },
      400: documentedError(
        "Missing file, empty file, malformed multipart, unknown task (`invalid_tasks`, `invalid_query`), invalid Idempotency-Key (`invalid_header`).",
      ),
      413: documentedError("Larger than the upload limit (code `payload_too_large`); nothing is stored."),
      415: documentedError("Unsupported media type (code `unsupported_media_type`)."),
      431: documentedError(
        "Request line or headers over the server's 16 KiB limit (code `headers_too_large`).",
      ),
      503: documentedError("S3 or SQS unavailable; nothing half-made is left. Retry after `Retry-After`."),
    },
    async handler(event, ctx) {
      const { record, replayed } = await createJob(ctx.api.intake, {
        req: uploadSourceOf(event),
        tenant: ctx.tenant,
        requestId: ctx.requestId,
        query: ctx.query,
        idempotencyKey: ctx.headers["idempotency-key"],
        signal: ctx.signal,
        log: ctx.log.child({ tenant: ctx.tenant }),
      });
      const self = `/v1/jobs/${record.jobId}`;
      return Response.json(
        { jobId: record.jobId, status: "queued", links: { self, result: `${self}/result` } },
        { status: 202, headers: { location: self, ...(replayed ? { "idempotent-replayed": "true" } : {}) } },
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
    handler: async (_event, ctx) => jobView(await getJob(ctx.api.jobs, ctx.tenant, ctx.params.id)),
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
      409: documentedError("Not finished yet (`not_ready`) or failed (`job_failed`)."),
    },
    handler: (_event, ctx) => getJobResult(ctx.api.jobs, ctx.tenant, ctx.params.id),
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
    async handler(_event, { api }) {
      const ready = await checkReadiness(api.readiness);
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
    params: z.object({ asset: z.string() }),
    documented: false,
    responses: { 200: { description: "The file" } },
    handler: (_event, ctx) => docsAsset(ctx.params.asset),
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
    params: z.object({ file: z.string() }),
    documented: false,
    responses: { 200: { description: "The file" } },
    handler: (_event, { api, params }) => api.web.asset(params.file),
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
