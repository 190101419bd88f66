import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toolPath } from "../../../scripts/tools.ts";
import { startTestStack } from "../../local/test/support.ts";
import {
  catalog,
  type Emitter,
  type MetricDefinition,
  metricsEmittedBy,
  type RuntimeMetricDefinition,
  runtimeMetrics,
} from "../src/index.ts";
import { driveLoad } from "./load.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
}

function parseExposition(text: string): {
  types: Map<string, string>;
  helps: Map<string, string>;
  samples: Sample[];
} {
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) helps.set(help[1]!, help[2]!);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line);
    if (!sample) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!;
    }
    samples.push({ name: sample[1]!, labels });
  }
  return { types, helps, samples };
}

function samplesOf(samples: Sample[], def: { name: string; type: string }): Sample[] {
  const names =
    def.type === "histogram" ? ["_bucket", "_sum", "_count"].map((s) => def.name + s) : [def.name];
  return samples.filter((s) => names.includes(s.name));
}

const PROM_CLIENT_REMARK =
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

let stack: Awaited<ReturnType<typeof startTestStack>>;
const scraped: Record<"api" | "consumer", string> = { api: "", consumer: "" };

beforeAll(async () => {
  stack = await startTestStack({ worker: true });
  await driveLoad(stack, 4);
  scraped.api = await (await fetch(`${stack.apiUrl}/metrics`)).text();
  scraped.consumer = await (await fetch(`${stack.workerUrl}/metrics`)).text();
});

afterAll(async () => {
  await stack?.stop();
});

describe.each(["api", "consumer"] as const)(
  "the %s's live /metrics after a few jobs",
  (emitter: Emitter & ("api" | "consumer")) => {
    const declared: Array<MetricDefinition | RuntimeMetricDefinition> = [
      ...metricsEmittedBy(emitter),
      ...(Object.values(runtimeMetrics) as RuntimeMetricDefinition[]).filter((m) =>
        m.emittedBy.includes(emitter),
      ),
    ];

    it("declares every catalog metric of this service with the catalog's type and help", () => {
      const { types, helps } = parseExposition(scraped[emitter]);
      expect(declared.length).toBeGreaterThan(0);
      for (const def of declared) {
        expect(types.get(def.name), def.name).toBe(def.type);
        if ("source" in def) continue; // prom-client writes its own help for its default metrics
        expect(helps.get(def.name), def.name).toBe(def.help);
      }
    });

    it("uses no label and no label value outside each metric's declared set", () => {
      const { samples } = parseExposition(scraped[emitter]);
      for (const def of declared) {
        for (const sample of samplesOf(samples, def)) {
          for (const [label, value] of Object.entries(sample.labels)) {
            if (label === "le" && sample.name.endsWith("_bucket")) continue;
            const spec = def.labels[label as keyof typeof def.labels] as
              | { values: readonly string[] }
              | undefined;
            expect(spec, `${sample.name} carries undeclared label ${label}`).toBeDefined();
            expect(spec!.values, `${sample.name}{${label}="${value}"}`).toContain(value);
          }
        }
      }
    });

    it("passes promtool check metrics, with lint remarks only on prom-client's own gauges", () => {
      const result = spawnSync(toolPath("promtool"), ["check", "metrics"], {
        input: scraped[emitter],
        encoding: "utf8",
      });
      // Exit 0: clean; 3: parsed, with lint remarks; anything else: the exposition does not parse.
      expect([0, 3], `${result.stdout}${result.stderr}`).toContain(result.status);
      const remarks = `${result.stdout}${result.stderr}`.trim().split("\n").filter(Boolean);
      // prom-client names three default gauges *_total; promtool flags them. Anything else is ours to fix.
      for (const line of remarks) expect(line).toMatch(PROM_CLIENT_REMARK);
    });
  },
);

describe("the samples the load produced", () => {
  it("count the submitted jobs as enqueued and as processed successfully", () => {
    expect(scraped.api).toMatch(/^content_engine_jobs_enqueued_total 4$/m);
    expect(scraped.consumer).toMatch(/^content_engine_jobs_processed_total\{outcome="succeeded"\} 4$/m);
    expect(scraped.consumer).toMatch(/^content_engine_job_queue_wait_seconds_count 4$/m);
  });

  it("label requests by route template and status class, never by raw path or code", () => {
    const { samples } = parseExposition(scraped.api);
    const requests = samplesOf(samples, catalog.httpRequests);
    expect(requests.map((s) => `${s.labels.route} ${s.labels.status}`)).toEqual(
      expect.arrayContaining(["/v1/jobs 2xx", "/v1/jobs/:id 2xx", "/v1/jobs/:id 4xx", "unmatched 4xx"]),
    );
    expect(requests.some((s) => s.labels.route?.includes("does-not-exist"))).toBe(false);
  });

  it("count uploaded bytes", () => {
    const bytes = /^content_engine_upload_bytes_total (\d+)$/m.exec(scraped.api);
    expect(Number(bytes?.[1])).toBeGreaterThan(4 * 50);
  });
});
