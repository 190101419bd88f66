import type { AnyRoute } from "./route-spec.ts";
import { ROUTES } from "./routes.ts";

/** The label set of the `route` label of the HTTP metrics: every path template, and `unmatched`. */
export function routeLabelSet(routes: readonly AnyRoute[] = ROUTES): string[] {
  return [...new Set(routes.map((r) => r.path)), "unmatched"];
}

/** The source of services/telemetry/src/http-routes.ts, generated from the route table. */
export function httpRoutesModule(routes = ROUTES): string {
  const lines = routeLabelSet(routes).map((route) => `  ${JSON.stringify(route)},`);
  return [
    "// Generated from services/api/src/routes.ts by `npm run generate`: do not edit.",
    "/** The `route` label values of the HTTP metrics: every path template of the API, and `unmatched`. */",
    "export const HTTP_ROUTES = [",
    ...lines,
    "] as const;",
    "",
  ].join("\n");
}
