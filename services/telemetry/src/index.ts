// The telemetry package: the catalog of every metric (catalog.ts) and the PromQL check that keeps
// dashboards and rules to what the catalog declares (promql.ts, which reads the catalog; the
// catalog imports nothing back).
export * from "./catalog.ts";
export {
  assertPromqlInCatalog,
  type PromqlReferences,
  PromqlSyntaxError,
  promqlReferences,
} from "./promql.ts";
