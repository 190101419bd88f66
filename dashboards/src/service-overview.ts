// Service overview: the golden signals of the API, the queue and the worker, for one environment.
import type { Environment } from "@content-engine/environments";
import { awsMetrics, catalog, runtimeMetrics } from "@content-engine/telemetry";
import {
  CloudWatchTarget,
  DatasourceVariable,
  DeployAnnotation,
  ModernDashboard,
  PrometheusAnnotation,
  PrometheusTarget,
  StatPanel,
  TablePanel,
  TimeseriesPanel,
} from "./grafana.ts";

const RATE = "[$__rate_interval]";
const http = catalog.httpRequests.name;
const latency = `${catalog.httpRequestDuration.name}_bucket`;
const API_ROUTES = `route=~"/v1/.*"`;

/** The queue name is the last path segment of its URL. */
export function queueName(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}

function latencyTargets(selector: string, by: string): PrometheusTarget[] {
  return [0.5, 0.95, 0.99].map(
    (q) =>
      new PrometheusTarget({
        expr: `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ""}) (rate(${selector}${RATE})))`,
        legendFormat: `p${q * 100}${by ? ` {{${by}}}` : ""}`,
      }),
  );
}

export function serviceOverviewDashboard(env: Environment): ModernDashboard {
  const region = env.region;
  const queue = { QueueName: queueName(env.queue.url) };
  const dlq = { QueueName: queueName(env.queue.dlqUrl) };
  const sqs = (
    metric: (typeof awsMetrics)[keyof typeof awsMetrics],
    dimensions: Record<string, string>,
    label: string,
  ) => new CloudWatchTarget({ metric, dimensions, statistic: "Maximum", region, label });
  const emf = (outcome: string) =>
    new CloudWatchTarget({
      metric: awsMetrics.jobsProcessed,
      dimensions: { service: "worker", outcome },
      statistic: "Sum",
      region,
      label: outcome,
    });

  return new ModernDashboard({
    uid: `ce-${env.name}-overview`,
    title: `content-engine ${env.name} / Service overview`,
    description: `Golden signals of the API, the jobs queue and the worker in ${env.name}. Generated from the telemetry catalog by dashboards/; edit the source, not Grafana.`,
    tags: ["content-engine", env.name, "generated"],
    variables: [
      new DatasourceVariable("datasource", "prometheus", "Prometheus"),
      new DatasourceVariable("cloudwatch", "cloudwatch", "CloudWatch"),
    ],
    annotations: [
      new DeployAnnotation(env.name),
      new PrometheusAnnotation(
        "Deploys and restarts",
        `changes(${runtimeMetrics.processStartTime.name}[2m]) > 0`,
        "{{job}} restarted (new task, pod or version)",
      ),
    ],
  })
    .addSection("API", [
      new TimeseriesPanel({
        title: "Request rate by route",
        description:
          "Requests per second the API answered, by route template (the /metrics scrape left out).",
        unit: "reqps",
        targets: [
          new PrometheusTarget({
            expr: `sum by (route) (rate(${http}{route!="/metrics"}${RATE}))`,
            legendFormat: "{{route}}",
          }),
        ],
      }),
      new StatPanel({
        title: "Error ratio (5xx)",
        description:
          "Share of requests answered 5xx. The availability SLO burns when this stays above 0.1 %.",
        unit: "percentunit",
        redFrom: 0.001,
        targets: [
          new PrometheusTarget({
            expr: `(sum(rate(${http}{status="5xx"}${RATE})) or vector(0)) / sum(rate(${http}${RATE}))`,
            legendFormat: "5xx ratio",
          }),
        ],
      }),
      new TimeseriesPanel({
        title: "Upload throughput",
        description: "Bytes per second of accepted uploads streamed into S3.",
        unit: "Bps",
        targets: [
          new PrometheusTarget({
            expr: `sum(rate(${catalog.uploadBytes.name}${RATE}))`,
            legendFormat: "uploads",
          }),
        ],
      }),
      new TimeseriesPanel({
        title: "Latency p50 / p95 / p99 by route",
        description: "Time to the last response byte of the job routes, by route template.",
        unit: "s",
        width: 16,
        targets: latencyTargets(`${latency}{${API_ROUTES}}`, "route"),
      }),
      new TimeseriesPanel({
        title: "Jobs enqueued and enqueue failures",
        description:
          "Jobs whose message reached the queue, and uploads that could not become a job (any stage).",
        unit: "ops",
        targets: [
          new PrometheusTarget({
            expr: `sum(rate(${catalog.jobsEnqueued.name}${RATE}))`,
            legendFormat: "enqueued",
          }),
          new PrometheusTarget({
            expr: `sum(rate(${catalog.enqueueFailures.name}${RATE})) or vector(0)`,
            legendFormat: "failed",
          }),
        ],
      }),
    ])
    .addSection("Queue", [
      new TimeseriesPanel({
        title: "Queue depth and in flight",
        description: "Messages waiting (visible) and being worked on (not visible) in the jobs queue.",
        unit: "short",
        width: 12,
        targets: [
          sqs(awsMetrics.sqsMessagesVisible, queue, "visible"),
          sqs(awsMetrics.sqsMessagesNotVisible, queue, "in flight"),
        ],
      }),
      new TimeseriesPanel({
        title: "Age of oldest message",
        description: "How long the next job has waited. The queue-age alarm pages above its threshold.",
        unit: "s",
        redFrom: env.alarms.thresholds.queueAgeSeconds,
        width: 6,
        targets: [sqs(awsMetrics.sqsAgeOfOldestMessage, queue, "oldest")],
      }),
      new StatPanel({
        title: "DLQ depth",
        description:
          "Jobs that failed for good. Any message here pages; see alarms/runbooks/dlq-not-empty.md.",
        unit: "short",
        redFrom: env.alarms.thresholds.dlqVisibleMessages + 1,
        width: 6,
        targets: [sqs(awsMetrics.sqsMessagesVisible, dlq, "DLQ")],
      }),
    ])
    .addSection("Worker", [
      new TimeseriesPanel({
        title: "Jobs per second by outcome",
        description: "Job messages the consumer handled, by outcome (succeeded, failed, retried, duplicate).",
        unit: "ops",
        targets: [
          new PrometheusTarget({
            expr: `sum by (outcome) (rate(${catalog.jobsProcessed.name}${RATE}))`,
            legendFormat: "{{outcome}}",
          }),
        ],
      }),
      new TimeseriesPanel({
        title: "Job duration p50 / p95 / p99",
        description: "Time the worker spent on one successful job message.",
        unit: "s",
        targets: latencyTargets(`${catalog.jobDuration.name}_bucket{outcome="succeeded"}`, ""),
      }),
      new TimeseriesPanel({
        title: "Queue wait p50 / p95 / p99",
        description:
          "Time from SendMessage to the worker picking the job up: job freshness as users feel it.",
        unit: "s",
        targets: latencyTargets(`${catalog.jobQueueWait.name}_bucket`, ""),
      }),
      new TablePanel({
        title: "Jobs by outcome, last hour",
        description: "Job messages handled in the last hour, by outcome.",
        unit: "short",
        width: 12,
        targets: [
          new PrometheusTarget({
            expr: `sum by (outcome) (increase(${catalog.jobsProcessed.name}[1h]))`,
            legendFormat: "{{outcome}}",
            instant: true,
          }),
        ],
      }),
      new TimeseriesPanel({
        title: "Lambda jobs by outcome (EMF)",
        description: "The same count from the Lambda worker's EMF records (ContentEngine/JobsProcessed).",
        unit: "short",
        width: 12,
        targets: ["succeeded", "failed", "retried", "duplicate"].map(emf),
      }),
    ]);
}
