// Generated from services/api/src/routes.ts by `npm run generate`: do not edit.
/** The `route` label values of the HTTP metrics: every path template of the API, and `unmatched`. */
export const HTTP_ROUTES = [
  "/v1/jobs",
  "/v1/jobs/:id",
  "/v1/jobs/:id/result",
  "/health",
  "/ready",
  "/metrics",
  "/openapi.json",
  "/docs",
  "/docs/:asset",
  "/",
  "/assets/:file",
  "/config.json",
  "unmatched",
] as const;
