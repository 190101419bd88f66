import { describe, expect, it } from "vitest";
import {
  assertPromqlInCatalog,
  catalog,
  PromqlSyntaxError,
  promqlReferences,
  runtimeMetrics,
} from "../src/index.ts";

const http = catalog.httpRequests.name;

describe("promqlReferences, read from lezer-promql's parse tree", () => {
  it("names the selected series, their matchers, the grouping labels and the functions", () => {
    const refs = promqlReferences(
      `sum by (route) (rate(${http}{env="dev", service="api", status="5xx"}[5m])) / ignoring (status) group_left sum without (instance) (rate(${http}{env="dev"}[5m]))`,
    );
    expect(refs.metrics).toEqual([http]);
    expect(refs.matchers[http]).toEqual(["env", "service", "status", "env"]);
    expect(refs.grouping.sort()).toEqual(["instance", "route", "status"]);
    expect(refs.functions).toEqual(["rate"]);
  });

  it("reads label values as strings, never as syntax (braces, by, commas inside quotes)", () => {
    const refs = promqlReferences(`sum(${http}{route="/v1/{id} by (tenant), x=1"})`);
    expect(refs.matchers[http]).toEqual(["route"]);
    expect(refs.grouping).toEqual([]);
  });

  it("keeps histogram series names and reads quoted UTF-8 selectors", () => {
    const refs = promqlReferences(
      `histogram_quantile(0.99, sum by (le) (rate({"${catalog.jobDuration.name}_bucket", outcome="succeeded"}[5m])))`,
    );
    expect(refs.metrics).toEqual([`${catalog.jobDuration.name}_bucket`]);
    expect(refs.matchers[`${catalog.jobDuration.name}_bucket`]).toEqual(["outcome"]);
    expect(refs.functions).toEqual(["histogram_quantile", "rate"]);
  });

  it("throws a PromqlSyntaxError with the offset where the expression stops parsing", () => {
    const bad = `sum by (route (rate(${http}[5m]))`;
    expect(() => promqlReferences(bad)).toThrow(PromqlSyntaxError);
    expect(() => promqlReferences(`rate(${http}[$__rate_interval])`)).toThrow(/does not parse at offset/);
  });
});

describe("assertPromqlInCatalog", () => {
  it("accepts the catalog's series with its declared and target labels (env, service)", () => {
    expect(() =>
      assertPromqlInCatalog(
        `sum by (service) (rate(${http}{env="prod", service="api", route="/v1/jobs"}[5m]))`,
        "q",
      ),
    ).not.toThrow();
  });

  it("refuses a counter function over a gauge, naming both", () => {
    expect(() =>
      assertPromqlInCatalog(`rate(${runtimeMetrics.processResidentMemory.name}{env="dev"}[5m])`, "q"),
    ).toThrow(/rate\(\) of process_resident_memory_bytes, a gauge/);
  });

  it("refuses a selector without a metric name, an unknown label and a syntax error, naming where", () => {
    expect(() => assertPromqlInCatalog(`sum(rate({env="dev"}[5m]))`, "panel X")).toThrow(
      /panel X: a selector names no metric/,
    );
    expect(() => assertPromqlInCatalog(`sum(rate(${http}{tenant="a"}[5m]))`, "panel X")).toThrow(
      /label tenant is not declared/,
    );
    expect(() => assertPromqlInCatalog(`sum(rate(${http}[5m])`, "panel X")).toThrow(
      /panel X: PromQL does not parse/,
    );
  });
});
