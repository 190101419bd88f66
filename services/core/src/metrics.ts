import type { MetricDefinition } from "@content-engine/telemetry";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type PromMetricFor<D extends MetricDefinition> = D["type"] extends "counter"
  ? Counter<string>
  : D["type"] extends "histogram"
    ? Histogram<string>
    : Gauge<string>;

/**
 * Registers the catalog's definitions on a prom-client registry, and nothing else: names, help,
 * label sets and buckets all come from the catalog.
 */
export function registerCatalogMetrics<D extends Record<string, MetricDefinition>>(
  registry: Registry,
  definitions: D,
): { [K in keyof D]: PromMetricFor<D[K]> } {
  const out: Record<string, Counter<string> | Histogram<string> | Gauge<string>> = {};
  for (const [key, def] of Object.entries(definitions)) {
    const common = {
      name: def.name,
      help: def.help,
      labelNames: Object.keys(def.labels),
      registers: [registry],
    };
    out[key] =
      def.type === "counter"
        ? new Counter(common)
        : def.type === "histogram"
          ? new Histogram({ ...common, buckets: [...(def.buckets ?? [])] })
          : new Gauge(common);
  }
  return out as { [K in keyof D]: PromMetricFor<D[K]> };
}

/**
 * A registry for one service: prom-client's process metrics (which the catalog declares as the
 * runtime metrics) plus the given catalog definitions.
 */
export function createCatalogRegistry<D extends Record<string, MetricDefinition>>(
  definitions: D,
): { registry: Registry; metrics: { [K in keyof D]: PromMetricFor<D[K]> } } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return { registry, metrics: registerCatalogMetrics(registry, definitions) };
}
