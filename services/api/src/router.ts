// Mounts the route table on an h3 app: the edge between a request and a route's handler.
import { type Logger, ServiceError } from "@content-engine/core";
import { getValidatedQuery, getValidatedRouterParams, type H3, type H3Event, HTTPError } from "h3";
import type { z } from "zod";
import type { Keyring } from "./auth.ts";
import { connectionSignal } from "./request-abort.ts";
import type { AnyRoute, ApiContext, RouteContext } from "./route-spec.ts";

export interface RouterOptions {
  /** What every handler gets, built once by the app. */
  api: ApiContext;
  keyring: Keyring;
  /** This request's id and logger (the app makes them once per request). */
  requestOf(event: H3Event): { requestId: string; log: Logger };
}

/**
 * Each route at its method, HEAD wherever GET is, and every other method of a known path answered
 * here, the one place a 405 is made: `method_not_allowed` with `Allow`.
 */
export function mountRoutes(app: H3, routes: readonly AnyRoute[], options: RouterOptions): void {
  for (const route of routes) {
    const handler = async (event: H3Event) => route.handler(event, await routeContext(route, event, options));
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
}

/** The methods each path answers, as its `Allow` header says them: HEAD wherever GET is. */
function allowedMethods(routes: readonly AnyRoute[]): Map<string, string> {
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

/**
 * Parses what the route declares, in this order, before its handler runs: the API key (401), the
 * path parameters (404 with the route's `invalidParams`), the headers (400 `invalid_header` naming
 * the header) and the query (400 `invalid_query`). Params and query go through h3's own validators;
 * h3 has none that returns parsed headers (services/api/README.md, "Request validation").
 */
async function routeContext(
  route: AnyRoute,
  event: H3Event,
  { api, keyring, requestOf }: RouterOptions,
): Promise<RouteContext<unknown, unknown, unknown>> {
  const tenant = route.auth === "apiKey" ? keyring.authenticate(event.req.headers.get("authorization")) : "";
  const invalid = route.invalidParams ?? { code: "not_found", message: "no such resource" };
  const params = route.params
    ? await getValidatedRouterParams(event, route.params, {
        onError: () => refusal(404, invalid.code, invalid.message),
      })
    : {};
  const headers = route.headers ? parseHeaders(route.headers, event) : {};
  const query = route.query
    ? await getValidatedQuery(event, route.query, {
        onError: ({ issues }) => refusal(400, "invalid_query", issues.map((i) => i.message).join("; ")),
      })
    : {};
  const { requestId, log } = requestOf(event);
  return { api, requestId, log, tenant, params, headers, query, signal: connectionSignal(event) };
}

function parseHeaders(schema: z.ZodType, event: H3Event): unknown {
  const parsed = schema.safeParse(Object.fromEntries(event.req.headers.entries()));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ServiceError(
    400,
    "invalid_header",
    `the ${String(issue.path[0] ?? "request")} header is invalid: ${issue.message}`,
  );
}

/** What h3's validators throw (an HTTPError is thrown as it is): the ServiceError errorResponse answers. */
const refusal = (status: number, code: string, message: string) =>
  new HTTPError(new ServiceError(status, code, message));
