import { z } from "zod";
import type { AnyRoute, JsonSchema, RouteResponse } from "./route-spec.ts";
import { errorSchema } from "./schemas.ts";

const idOf = (s: z.ZodType): string | undefined => (z.globalRegistry.get(s) as { id?: string })?.id;

/** The named response schemas of the routes, emitted once under components.schemas. */
function componentSchemas(routes: readonly AnyRoute[]): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  const named = new Map<string, z.ZodType>([["Error", errorSchema]]);
  for (const route of routes) {
    for (const response of Object.values(route.responses)) {
      const id = response.json && idOf(response.json);
      if (response.json && id) named.set(id, response.json);
    }
  }
  for (const [id, s] of named) registry.add(s, { id });
  const out = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
  }) as { schemas: Record<string, JsonSchema> };
  // Each entry carries its own $schema/$id; inside an OpenAPI document they are noise.
  return Object.fromEntries(
    Object.entries(out.schemas).map(([id, { $schema: _s, $id: _i, ...rest }]) => [id, rest]),
  );
}

const inline = (s: z.ZodType, io: "input" | "output" = "output"): JsonSchema => {
  const { $schema: _s, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any", reused: "inline" });
  return rest;
};

function parametersOf(object: z.ZodType, location: "query" | "path" | "header"): unknown[] {
  const jsonSchema = inline(object, "input") as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(jsonSchema.properties ?? {}).map(([name, s]) => ({
    name,
    in: location,
    required: location === "path" || (jsonSchema.required ?? []).includes(name),
    ...(s.description ? { description: s.description } : {}),
    schema: s,
  }));
}

function responseOf(response: RouteResponse): JsonSchema {
  const id = response.json && idOf(response.json);
  const json = response.json
    ? { "application/json": { schema: id ? { $ref: `#/components/schemas/${id}` } : inline(response.json) } }
    : undefined;
  const content = json || response.content ? { ...json, ...response.content } : undefined;
  return {
    description: response.description,
    ...(response.headers ? { headers: response.headers } : {}),
    ...(content ? { content } : {}),
  };
}

/** A response documented as the one error form, `{"error":{"code","message"}}`. */
export const documentedError = (description: string): RouteResponse => ({ description, json: errorSchema });

function operationOf(route: AnyRoute): JsonSchema {
  const responses: Record<string, RouteResponse> = Object.fromEntries(
    Object.entries(route.responses).map(([status, r]) => [status, r]),
  );
  if (route.auth === "apiKey") {
    responses["401"] ??= documentedError("Missing or invalid API key (code `unauthorized`).");
  }
  if (route.headers) {
    responses["400"] ??= documentedError("A request header does not parse (code `invalid_header`).");
  }
  if (route.query) {
    responses["400"] ??= documentedError("A query parameter does not parse (code `invalid_query`).");
  }
  const parameters = [
    ...(route.params ? parametersOf(route.params, "path") : []),
    ...(route.query ? parametersOf(route.query, "query") : []),
    ...(route.headers ? parametersOf(route.headers, "header") : []),
  ];
  const sorted = Object.keys(responses).sort();
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.auth === "apiKey" ? { security: [{ bearerAuth: [] }] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.requestBody ? { requestBody: route.requestBody } : {}),
    responses: Object.fromEntries(sorted.map((status) => [status, responseOf(responses[status]!)])),
  };
}

/**
 * OpenAPI 3.1 for every documented route of the table, built from the same zod schemas that
 * validate requests. HEAD is implied wherever GET is (RFC 9110), so it is not listed.
 */
export function buildOpenApi(version: string, routes: readonly AnyRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    if (route.documented === false) continue;
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operationOf(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "content-engine API",
      version,
      description:
        "Upload a document; it is streamed to S3, a job is queued, and the worker analyses it in the background. Every GET also answers HEAD.",
    },
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "API key" } },
      schemas: componentSchemas(routes),
    },
    paths,
  };
}
