import { ROUTES, routeLabelSet } from "./routes.ts";

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
