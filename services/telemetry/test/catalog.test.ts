import { describe, expect, it } from "vitest";
import {
  awsMetrics,
  catalog,
  familyOfSeries,
  findAwsMetric,
  kubernetesMetrics,
  type MetricDefinition,
  prometheusFamilies,
} from "../src/index.ts";

describe("the telemetry catalog", () => {
  it("declares each Prometheus family once, across services, runtime and Kubernetes exporters", () => {
    const names = prometheusFamilies().map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("follows Prometheus naming: counters end in _total, seconds and bytes carry their unit", () => {
    for (const m of Object.values(catalog) as MetricDefinition[]) {
      if (m.type === "counter") expect(m.name, m.name).toMatch(/_total$/);
      if (m.unit === "seconds") expect(m.name, m.name).toMatch(/_seconds(_total)?$/);
      if (m.unit === "bytes") expect(m.name, m.name).toMatch(/_bytes(_total)?$/);
    }
  });

  it("declares every EMF record the Lambda worker writes as a CloudWatch metric with the same name and unit", () => {
    for (const m of Object.values(catalog) as MetricDefinition[]) {
      if (!m.cloudwatch) continue;
      const aws = findAwsMetric(m.cloudwatch.namespace, m.cloudwatch.name);
      expect(aws, m.cloudwatch.name).toBeDefined();
      expect(aws!.unit).toBe(m.cloudwatch.unit);
      expect(aws!.source).toBe("lambda");
    }
  });

  it("gives every AWS metric a dimension and at least one statistic", () => {
    for (const m of Object.values(awsMetrics)) {
      expect(m.dimensions.length, m.name).toBeGreaterThan(0);
      expect(m.statistics.length, m.name).toBeGreaterThan(0);
    }
  });

  it("resolves histogram series to their family and lets only them use le", () => {
    expect(familyOfSeries("content_engine_job_duration_seconds_bucket")?.labels).toContain("le");
    expect(familyOfSeries("content_engine_jobs_processed_total")?.labels).not.toContain("le");
    expect(familyOfSeries("content_engine_jobs_processed_total_count")).toBeUndefined();
    expect(familyOfSeries(kubernetesMetrics.containerCpu.name)?.origin).toBe("kubernetes");
    expect(familyOfSeries("content_engine_made_up_total")).toBeUndefined();
  });
});
