// What a route of the table is (routes.ts) and what its handler is given (app.ts builds it). Types
// only, plus `defineRoute`: the table and the app both import from here, never from each other.
import type { JobStore, Logger } from "@content-engine/core";
import type { H3Event } from "h3";
import type { Registry } from "prom-client";
import type { z } from "zod";
import type { JobsServiceDeps } from "./jobs-service.ts";
import type { ReadinessTargets } from "./ready.ts";
import type { WebConsole } from "./web.ts";

export type RouteMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** `apiKey`: `Authorization: Bearer <key>`, checked before anything else; the handler gets the tenant. */
export type RouteAuth = "apiKey" | "none";

export type JsonSchema = Record<string, unknown>;

export interface RouteResponse {
  description: string;
  /** An `application/json` body; a schema with a zod `meta({ id })` becomes a named component. */
  json?: z.ZodType;
  /** Any other body, as OpenAPI writes it (`{"text/html": {schema: {type: "string"}}}`). */
  content?: Record<string, { schema: JsonSchema }>;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

/**
 * What every handler may use: built once, when the app is created (app.ts), never per request.
 * A route that needs something new adds it here and in `createApiApp`.
 */
export interface ApiContext {
  /** Everything `createJob` needs (jobs-service.ts), metrics callbacks included. */
  intake: JobsServiceDeps;
  /** The job records, read by the job routes. */
  jobs: JobStore;
  /** What `/ready` probes. */
  readiness: ReadinessTargets;
  /** The API's metrics, as `/metrics` serves them. */
  registry: Registry;
  /** The OpenAPI document of this app's routes, serialised once. */
  openapi: string;
  web: WebConsole;
}

/** What the edge hands a handler: everything parsed, authenticated and bound to this request. */
export interface RouteContext<P, H, Q> {
  api: ApiContext;
  requestId: string;
  log: Logger;
  /** The authenticated tenant (`apiKey` routes); "" on public routes. */
  tenant: string;
  /** Path parameters, parsed by the route's `params` schema. */
  params: P;
  /** Request headers, parsed by the route's `headers` schema (only the declared ones). */
  headers: H;
  /** Query parameters, parsed by the route's `query` schema. */
  query: Q;
  /**
   * Aborts when the connection fails before the response is sent (the client went away, or bytes
   * after this request did not parse): work that would create something must stop and undo.
   */
  signal: AbortSignal;
}

type NoInput = Record<string, never>;

export interface RouteSpec<P = NoInput, H = NoInput, Q = NoInput> {
  method: RouteMethod;
  /** h3 path template (`/v1/jobs/:id`); OpenAPI gets `/v1/jobs/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  auth: RouteAuth;
  /** Path parameters; a value that does not parse answers 404 with `invalidParams`. */
  params?: z.ZodType<P>;
  invalidParams?: { code: string; message: string };
  /**
   * Request headers: a bad value answers 400 `invalid_header` naming the header; documented as
   * header parameters. Keys are lower-case header names.
   */
  headers?: z.ZodType<H>;
  /** Query parameters: a bad value answers 400 `invalid_query`; documented as query parameters. */
  query?: z.ZodType<Q>;
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<number, RouteResponse>;
  /** false: served and counted, but left out of /openapi.json (static assets). Default true. */
  documented?: boolean;
  handler(event: H3Event, ctx: RouteContext<P, H, Q>): unknown;
}

/** A route of the table: type-checks the handler against its own schemas, then joins the table. */
// biome-ignore lint/suspicious/noExplicitAny: the table holds routes of every parameter shape.
export type AnyRoute = RouteSpec<any, any, any>;

/**
 * @example
 * defineRoute({
 *   method: "GET", path: "/v1/ping/:name", operationId: "ping", summary: "Pong", auth: "apiKey",
 *   params: z.object({ name: z.string() }),
 *   responses: { 200: { description: "pong", json: z.object({ pong: z.string() }) } },
 *   handler: (_event, ctx) => ({ pong: `${ctx.tenant}:${ctx.params.name}` }),
 * });
 */
export const defineRoute = <P = NoInput, H = NoInput, Q = NoInput>(route: RouteSpec<P, H, Q>): AnyRoute =>
  route;
