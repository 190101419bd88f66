import { CONTENT_TYPES } from "@content-engine/core";
import { z } from "zod";
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

type JsonSchema = Record<string, unknown>;

/** The named response schemas, emitted once under components.schemas and referenced from paths. */
const NAMED = {
  JobAccepted: jobAcceptedSchema,
  Job: jobViewSchema,
  JobResult: resultSchema,
  Error: errorSchema,
  Health: healthSchema,
  Readiness: readySchema,
};

function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, s] of Object.entries(NAMED)) registry.add(s, { id });
  const out = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
  }) as { schemas: Record<string, JsonSchema> };
  // Each entry carries its own $schema/$id; inside an OpenAPI document they are noise.
  return Object.fromEntries(
    Object.entries(out.schemas).map(([id, { $schema: _s, $id: _i, ...rest }]) => [id, rest]),
  );
}

const schema = (s: z.ZodType, io: "input" | "output" = "output"): JsonSchema =>
  z.toJSONSchema(s, { io, unrepresentable: "any", reused: "inline" }) as JsonSchema;

const json = (name: keyof typeof NAMED) => ({
  "application/json": { schema: { $ref: `#/components/schemas/${name}` } },
});
const errorResponse = (description: string) => ({ description, content: json("Error") });

function parametersOf(object: z.ZodObject, location: "query" | "path"): unknown[] {
  const jsonSchema = schema(object, "input") as {
    properties: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(jsonSchema.properties).map(([name, s]) => ({
    name,
    in: location,
    required: location === "path" || (jsonSchema.required ?? []).includes(name),
    description: s.description,
    schema: s,
  }));
}

/** OpenAPI 3.1 for every route, built from the same zod schemas that validate requests. */
export function buildOpenApi(version: string): Record<string, unknown> {
  const jobId = parametersOf(jobIdParamSchema, "path");
  const auth = [{ bearerAuth: [] }];
  const unauthorized = errorResponse("Missing or invalid API key (code `unauthorized`).");
  const notFound = errorResponse("Unknown job, or a job of another tenant (code `job_not_found`).");
  return {
    openapi: "3.1.0",
    info: {
      title: "content-engine API",
      version,
      description:
        "Upload a document; it is streamed to S3, a job is queued, and the worker analyses it in the background.",
    },
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "API key" } },
      schemas: componentSchemas(),
    },
    paths: {
      "/v1/jobs": {
        post: {
          operationId: "createJob",
          summary: "Upload a document and queue a job",
          security: auth,
          parameters: [
            ...parametersOf(createJobQuerySchema, "query"),
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" },
              description:
                "Makes a retried upload safe: within 24 hours, a request with the same key (per tenant) returns the first job (`Idempotent-Replayed: true`) instead of creating a second one, whatever its body.",
            },
          ],
          requestBody: {
            required: true,
            content: {
              "multipart/form-data": {
                schema: {
                  type: "object",
                  required: ["file"],
                  properties: {
                    file: {
                      type: "string",
                      format: "binary",
                      description: `One of ${CONTENT_TYPES.join(", ")}`,
                    },
                    tasks: schema(tasksSchema, "input"),
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
            "202": {
              description: "Stored and queued; processing happens in the background.",
              headers: {
                Location: { schema: { type: "string" }, description: "URL of the job" },
                "Idempotent-Replayed": {
                  schema: { type: "string", enum: ["true"] },
                  description: "Present when an Idempotency-Key named an existing job, which is returned.",
                },
              },
              content: json("JobAccepted"),
            },
            "400": errorResponse(
              "Missing file, empty file, malformed multipart, unknown task, invalid Idempotency-Key.",
            ),
            "401": unauthorized,
            "413": errorResponse(
              "Larger than the upload limit (code `payload_too_large`); nothing is stored.",
            ),
            "415": errorResponse("Unsupported media type (code `unsupported_media_type`)."),
            "431": { description: "Request line or headers over the server's 16 KiB limit; no body." },
            "503": errorResponse(
              "S3 or SQS unavailable; nothing half-made is left. Retry after `Retry-After`.",
            ),
          },
        },
      },
      "/v1/jobs/{id}": {
        get: {
          operationId: "getJob",
          summary: "Job status",
          security: auth,
          parameters: jobId,
          responses: {
            "200": { description: "The job", content: json("Job") },
            "401": unauthorized,
            "404": notFound,
          },
        },
      },
      "/v1/jobs/{id}/result": {
        get: {
          operationId: "getJobResult",
          summary: "Job result",
          security: auth,
          parameters: jobId,
          responses: {
            "200": { description: "The analysis", content: json("JobResult") },
            "401": unauthorized,
            "404": notFound,
            "409": errorResponse("Not finished yet (`not_ready`) or failed (`job_failed`)."),
          },
        },
      },
      "/health": {
        get: {
          operationId: "health",
          summary: "Liveness",
          responses: { "200": { description: "Alive", content: json("Health") } },
        },
      },
      "/ready": {
        get: {
          operationId: "ready",
          summary: "Readiness: the bucket and the queue answer",
          responses: {
            "200": { description: "Ready", content: json("Readiness") },
            "503": { description: "A dependency does not answer", content: json("Readiness") },
          },
        },
      },
      "/metrics": {
        get: {
          operationId: "metrics",
          summary: "Prometheus metrics",
          responses: {
            "200": {
              description: "Prometheus text format",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This document",
          responses: {
            "200": {
              description: "OpenAPI 3.1",
              content: { "application/json": { schema: { type: "object" } } },
            },
          },
        },
      },
      "/docs": {
        get: {
          operationId: "docs",
          summary: "Interactive API documentation (served locally, works offline)",
          responses: {
            "200": { description: "HTML page", content: { "text/html": { schema: { type: "string" } } } },
          },
        },
      },
    },
  };
}
