// Service overview: the golden signals of the API, the load balancer, the queue and the worker, for
// one environment, fitted to its platform: on ECS the worker is a Lambda (its signals are EMF records
// in CloudWatch) and the ALB fronts the API; on EKS the worker is the consumer Deployment, scraped.
import { type Environment, loadBalancerNames, queueNames } from "@content-engine/environments";
import { type AwsMetricDefinition, awsMetrics, catalog, runtimeMetrics } from "@content-engine/telemetry";
import { DeployAnnotation, PrometheusAnnotation } from "./grafana/annotations.ts";
import { GridDashboard } from "./grafana/dashboard.ts";
import { type Panel, StatPanel, TablePanel, TimeseriesPanel } from "./grafana/panels.ts";
import {
  type CloudWatchTarget,
  cloudWatchQueries,
  ENV_VARIABLE,
  PrometheusTarget,
  scope,
  variableRef,
} from "./grafana/targets.ts";
import { CloudWatchDimensionVariable, ConstantVariable, DatasourceVariable } from "./grafana/variables.ts";
import { deployMarker } from "./manifest.ts";

const RATE = "[$__rate_interval]";
const http = catalog.httpRequests.name;
const latency = `${catalog.httpRequestDuration.name}_bucket`;
/** The job routes: probes and the scrape are not traffic. */
const API_ROUTES = `route=~"/v1/.*"`;

/** Outcomes that are neither a client nor a system fault (those two have a panel of their own). */
const ROUTINE_OUTCOMES = ["succeeded", "retried", "duplicate"] as const;

function latencyTargets(selector: string, by: string): PrometheusTarget[] {
  return [0.5, 0.95, 0.99].map(
    (q) =>
      new PrometheusTarget({
        expr: `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ""}) (rate(${selector}${RATE})))`,
        legendFormat: `p${q * 100}${by ? ` {{${by}}}` : ""}`,
      }),
  );
}

/** The same percentiles of a CloudWatch metric, each labelled by its statistic. */
function cloudWatchPercentiles(
  env: Environment,
  metric: AwsMetricDefinition,
  dimensions: Record<string, string>,
  statistics = ["p50", "p95", "p99"],
): CloudWatchTarget[] {
  const cw = cloudWatchQueries(env.region);
  return statistics.map((statistic) => cw(metric, dimensions, statistic, statistic));
}

/** `$alb` and `$targetgroup`: the environment's own ALB and API target group, looked up in CloudWatch. */
export function loadBalancerVariables(env: Environment): CloudWatchDimensionVariable[] {
  // Terraform's names are lowercase letters, digits and dashes: nothing a regex would read as syntax.
  const names = loadBalancerNames(env);
  return [
    new CloudWatchDimensionVariable({
      name: "alb",
      label: "Load balancer",
      region: env.region,
      metric: awsMetrics.albRequests,
      dimension: "LoadBalancer",
      regex: `/^app\\/${names.loadBalancer}\\/[0-9a-f]+$/`,
    }),
    new CloudWatchDimensionVariable({
      name: "targetgroup",
      label: "API target group",
      region: env.region,
      metric: awsMetrics.albRequests,
      dimension: "TargetGroup",
      filters: { LoadBalancer: variableRef("alb") },
      regex: `/^targetgroup\\/${names.targetGroup}\\/[0-9a-f]+$/`,
    }),
  ];
}

function apiPanels(): Panel[] {
  const api = scope("api");
  return [
    new TimeseriesPanel({
      title: "Request rate by route",
      description: "Requests per second the API answered, by route template (the /metrics scrape left out).",
      unit: "reqps",
      targets: [
        new PrometheusTarget({
          expr: `sum by (route) (rate(${http}{${api}, route!="/metrics"}${RATE}))`,
          legendFormat: "{{route}}",
        }),
      ],
    }),
    new StatPanel({
      title: "Error ratio (5xx)",
      description:
        "Share of job-route requests answered 5xx (probes and the scrape left out). The availability SLO burns when this stays above 0.1 %.",
      unit: "percentunit",
      redFrom: 0.001,
      targets: [
        new PrometheusTarget({
          expr: `(sum(rate(${http}{${api}, ${API_ROUTES}, status="5xx"}${RATE})) or vector(0)) / sum(rate(${http}{${api}, ${API_ROUTES}}${RATE}))`,
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
          expr: `sum(rate(${catalog.uploadBytes.name}{${api}}${RATE}))`,
          legendFormat: "uploads",
        }),
      ],
    }),
    new TimeseriesPanel({
      title: "Latency p50 / p95 / p99 by route",
      description: "Time to the last response byte of the job routes, by route template.",
      unit: "s",
      width: 16,
      targets: latencyTargets(`${latency}{${api}, ${API_ROUTES}}`, "route"),
    }),
    new TimeseriesPanel({
      title: "Jobs enqueued and enqueue failures",
      description:
        "Jobs whose message reached the queue, and uploads that could not become a job (any stage).",
      unit: "ops",
      targets: [
        new PrometheusTarget({
          expr: `sum(rate(${catalog.jobsEnqueued.name}{${api}}${RATE}))`,
          legendFormat: "enqueued",
        }),
        new PrometheusTarget({
          expr: `sum(rate(${catalog.enqueueFailures.name}{${api}}${RATE})) or vector(0)`,
          legendFormat: "failed",
        }),
      ],
    }),
  ];
}

function loadBalancerPanels(env: Environment): Panel[] {
  const target = { LoadBalancer: variableRef("alb"), TargetGroup: variableRef("targetgroup") };
  const cw = cloudWatchQueries(env.region);
  return [
    new TimeseriesPanel({
      title: "ALB requests",
      description: "Requests the load balancer routed to the API per minute: the traffic clients sent.",
      unit: "short",
      width: 6,
      targets: [cw(awsMetrics.albRequests, target, "Sum", "requests")],
    }),
    new TimeseriesPanel({
      title: "ALB 5xx: target and load balancer",
      description:
        "5xx the API answered (target) and 5xx the load balancer answered itself (502/503/504: no healthy target, reset, timeout), per minute.",
      unit: "short",
      width: 6,
      targets: [
        cw(awsMetrics.albTarget5xx, target, "Sum", "target 5xx"),
        cw(awsMetrics.albElb5xx, { LoadBalancer: target.LoadBalancer }, "Sum", "ELB 5xx"),
      ],
    }),
    new TimeseriesPanel({
      title: "ALB latency p50 / p99",
      description:
        "Target response time as the load balancer measures it (request sent to response headers).",
      unit: "s",
      width: 6,
      targets: cloudWatchPercentiles(env, awsMetrics.albTargetResponseTime, target, ["p50", "p99"]),
    }),
    new TimeseriesPanel({
      title: "ALB healthy and unhealthy hosts",
      description: `API targets passing and failing the health check; fewer than ${env.api.minCount} healthy means lost capacity.`,
      unit: "short",
      width: 6,
      targets: [
        cw(awsMetrics.albHealthyHosts, target, "Minimum", "healthy"),
        cw(awsMetrics.albUnhealthyHosts, target, "Maximum", "unhealthy"),
      ],
    }),
  ];
}

function queuePanels(env: Environment): Panel[] {
  const queues = queueNames(env);
  const queue = { QueueName: queues.jobs };
  const dlq = { QueueName: queues.dlq };
  const cw = cloudWatchQueries(env.region);
  const sqs = (metric: AwsMetricDefinition, dimensions: Record<string, string>, label: string) =>
    cw(metric, dimensions, "Maximum", label);
  return [
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
        "Jobs that failed for good through a system fault (client faults never reach the DLQ). See alarms/runbooks.",
      unit: "short",
      redFrom: env.alarms.thresholds.dlqVisibleMessages + 1,
      width: 6,
      targets: [sqs(awsMetrics.sqsMessagesVisible, dlq, "DLQ")],
    }),
  ];
}

const FAULTS_DESCRIPTION =
  "rejected: the client's document cannot be processed (a client fault: acknowledged, no DLQ, no page). failed: our fault, final (retries exhausted, crash, dependency down: DLQ and page).";

/** The consumer's own series (EKS): scraped by the collector, `service="worker"`. */
function consumerPanels(): Panel[] {
  const worker = scope("worker");
  const jobs = catalog.jobsProcessed.name;
  return [
    new TimeseriesPanel({
      title: "Jobs per second by outcome",
      description: "Job messages the consumer handled, by routine outcome (succeeded, retried, duplicate).",
      unit: "ops",
      targets: [
        new PrometheusTarget({
          expr: `sum by (outcome) (rate(${jobs}{${worker}, outcome=~"${ROUTINE_OUTCOMES.join("|")}"}${RATE}))`,
          legendFormat: "{{outcome}}",
        }),
      ],
    }),
    new TimeseriesPanel({
      title: "Rejected (client) and failed (system) jobs",
      description: FAULTS_DESCRIPTION,
      unit: "ops",
      targets: ["rejected", "failed"].map(
        (outcome) =>
          new PrometheusTarget({
            expr: `sum(rate(${jobs}{${worker}, outcome="${outcome}"}${RATE})) or vector(0)`,
            legendFormat: outcome,
          }),
      ),
    }),
    new TimeseriesPanel({
      title: "Job duration p50 / p95 / p99",
      description: "Time the worker spent on one successful job message.",
      unit: "s",
      targets: latencyTargets(`${catalog.jobDuration.name}_bucket{${worker}, outcome="succeeded"}`, ""),
    }),
    new TimeseriesPanel({
      title: "Queue wait p50 / p95 / p99",
      description: "Time from SendMessage to the worker picking the job up: job freshness as users feel it.",
      unit: "s",
      width: 12,
      targets: latencyTargets(`${catalog.jobQueueWait.name}_bucket{${worker}}`, ""),
    }),
    new TablePanel({
      title: "Jobs by outcome, last hour",
      description: "Job messages handled in the last hour, by outcome.",
      unit: "short",
      width: 12,
      targets: [
        new PrometheusTarget({
          expr: `sum by (outcome) (increase(${jobs}{${worker}}[1h]))`,
          legendFormat: "{{outcome}}",
          instant: true,
        }),
      ],
    }),
  ];
}

const CLOUDWATCH_JOBS = `${awsMetrics.jobsProcessed.namespace}/${awsMetrics.jobsProcessed.name}`;

/** The Lambda worker's EMF records (ECS environments): CloudWatch, dimensions service and outcome. */
function lambdaWorkerPanels(env: Environment): Panel[] {
  const cw = cloudWatchQueries(env.region);
  const jobs = (outcome: string) =>
    cw(awsMetrics.jobsProcessed, { service: "worker", outcome }, "Sum", outcome);
  return [
    new TimeseriesPanel({
      title: "Jobs by outcome (EMF)",
      description: `Job messages the Lambda worker handled per minute, by routine outcome (${CLOUDWATCH_JOBS}).`,
      unit: "short",
      targets: ROUTINE_OUTCOMES.map(jobs),
    }),
    new TimeseriesPanel({
      title: "Rejected (client) and failed (system) jobs",
      description: FAULTS_DESCRIPTION,
      unit: "short",
      targets: ["rejected", "failed"].map(jobs),
    }),
    new TimeseriesPanel({
      title: "Job duration p50 / p95 / p99",
      description: "Time the Lambda worker spent on one successful job message (EMF JobDuration).",
      unit: "s",
      targets: cloudWatchPercentiles(env, awsMetrics.jobDuration, {
        service: "worker",
        outcome: "succeeded",
      }),
    }),
    new TimeseriesPanel({
      title: "Queue wait p50 / p95 / p99",
      description: "Time from SendMessage to the worker picking the job up (EMF JobQueueWait).",
      unit: "s",
      width: 12,
      targets: cloudWatchPercentiles(env, awsMetrics.jobQueueWait, { service: "worker" }),
    }),
    new TablePanel({
      title: "Jobs by outcome",
      description: "Job messages the Lambda worker handled over the dashboard's time range, by outcome.",
      unit: "short",
      width: 12,
      targets: (["succeeded", "rejected", "failed", "retried", "duplicate"] as const).map(jobs),
    }),
  ];
}

export function serviceOverviewDashboard(env: Environment): GridDashboard {
  const ecs = env.platform === "ecs";
  const dashboard = new GridDashboard({
    uid: `ce-${env.name}-overview`,
    title: `content-engine ${env.name} / Service overview`,
    description: `Golden signals of the API, ${ecs ? "its load balancer, " : ""}the jobs queue and the worker in ${env.name} (${env.platform.toUpperCase()}). Generated from the telemetry catalog by dashboards/; edit the source, not Grafana.`,
    tags: ["content-engine", env.name, env.platform, "generated"],
    variables: [
      new DatasourceVariable("datasource", "prometheus", "Prometheus"),
      new DatasourceVariable("cloudwatch", "cloudwatch", "CloudWatch"),
      new ConstantVariable(
        ENV_VARIABLE,
        env.name,
        "The environment: every PromQL query selects the env label the collector adds.",
      ),
      ...(ecs ? loadBalancerVariables(env) : []),
    ],
    annotations: [
      new DeployAnnotation(deployMarker(env)),
      new PrometheusAnnotation(
        "Deploys and restarts",
        `changes(${runtimeMetrics.processStartTime.name}{${scope()}}[2m]) > 0`,
        "{{service}} restarted (new task, pod or version)",
      ),
    ],
  }).addSection("API", apiPanels());
  if (ecs) dashboard.addSection("Load balancer (ALB)", loadBalancerPanels(env));
  dashboard.addSection("Queue", queuePanels(env));
  return ecs
    ? dashboard.addSection("Worker (Lambda, EMF)", lambdaWorkerPanels(env))
    : dashboard.addSection("Worker (consumer)", consumerPanels());
}
