// Platform: what the services run on, for one environment and only its platform — on ECS the API's
// tasks and the Lambda worker, on EKS the pods and KEDA — and the Node runtime of the processes
// the collector scrapes (the API on ECS; the API and the consumer on EKS).
import { type Environment, kubernetesNames } from "@content-engine/environments";
import { awsMetrics, kubernetesMetrics, runtimeMetrics } from "@content-engine/telemetry";
import { DeployAnnotation } from "./grafana/annotations.ts";
import { GridDashboard } from "./grafana/dashboard.ts";
import { type Panel, StatPanel, TimeseriesPanel } from "./grafana/panels.ts";
import { cloudWatchQueries, ENV_VARIABLE, PrometheusTarget, scope } from "./grafana/targets.ts";
import { ConstantVariable, DatasourceVariable } from "./grafana/variables.ts";
import { deployMarker } from "./manifest.ts";

const RATE = "[$__rate_interval]";

function awsPanels(env: Environment): Array<{ title: string; panels: Panel[] }> {
  const ecs = { ClusterName: env.api.cluster, ServiceName: env.api.service };
  const lambda = { FunctionName: env.worker.functionName };
  const cw = cloudWatchQueries(env.region);
  return [
    {
      title: "ECS (API)",
      panels: [
        new TimeseriesPanel({
          title: "API CPU and memory",
          description: "CPU and memory the API's tasks use, as a share of their reservation.",
          unit: "percent",
          min: 0,
          max: 100,
          width: 16,
          targets: [
            cw(awsMetrics.ecsCpu, ecs, "Average", "CPU"),
            cw(awsMetrics.ecsMemory, ecs, "Average", "memory"),
          ],
        }),
        new StatPanel({
          title: "Running API tasks",
          description: `Tasks in RUNNING state; fewer than ${env.api.minCount} pages.`,
          unit: "short",
          width: 8,
          targets: [cw(awsMetrics.ecsRunningTasks, ecs, "Minimum", "running")],
        }),
      ],
    },
    {
      title: "Lambda (worker)",
      panels: [
        new TimeseriesPanel({
          title: "Worker errors and throttles",
          description: "Invocations that failed, and invocations refused for lack of concurrency.",
          unit: "short",
          targets: [
            cw(awsMetrics.lambdaErrors, lambda, "Sum", "errors"),
            cw(awsMetrics.lambdaThrottles, lambda, "Sum", "throttles"),
          ],
        }),
        new TimeseriesPanel({
          title: "Worker duration p90",
          description: `p90 of invocation time; the red line is the ${env.worker.timeout} s timeout.`,
          unit: "ms",
          redFrom: env.worker.timeout * 1000,
          targets: [cw(awsMetrics.lambdaDuration, lambda, "p90", "p90")],
        }),
        new TimeseriesPanel({
          title: "Worker concurrency",
          description: `Instances running at once; the red line is the event source's maximum of ${env.worker.maxConcurrency}.`,
          unit: "short",
          redFrom: env.worker.maxConcurrency,
          targets: [cw(awsMetrics.lambdaConcurrentExecutions, lambda, "Maximum", "concurrent")],
        }),
      ],
    },
  ];
}

/** prom-client's runtime series of the scraped services, one line per service. */
function runtimePanels(services: string): Panel[] {
  const s = scope(services);
  const r = runtimeMetrics;
  return [
    new TimeseriesPanel({
      title: "CPU by service",
      description: "CPU cores each service's processes use (prom-client process metrics).",
      unit: "short",
      targets: [
        new PrometheusTarget({
          expr: `sum by (service) (rate(${r.processCpu.name}{${s}}${RATE}))`,
          legendFormat: "{{service}}",
        }),
      ],
    }),
    new TimeseriesPanel({
      title: "Resident memory by service",
      description: "Resident memory of each service's processes.",
      unit: "bytes",
      targets: [
        new PrometheusTarget({
          expr: `sum by (service) (${r.processResidentMemory.name}{${s}})`,
          legendFormat: "{{service}}",
        }),
      ],
    }),
    new TimeseriesPanel({
      title: "V8 heap used and total",
      description: "Heap in use and reserved, per service; used growing towards total across GCs is a leak.",
      unit: "bytes",
      targets: [
        new PrometheusTarget({
          expr: `sum by (service) (${r.heapUsed.name}{${s}})`,
          legendFormat: "{{service}} used",
        }),
        new PrometheusTarget({
          expr: `sum by (service) (${r.heapTotal.name}{${s}})`,
          legendFormat: "{{service}} total",
        }),
      ],
    }),
    new TimeseriesPanel({
      title: "Time in GC by kind",
      description:
        "Share of each second spent in garbage collection, by service and kind (minor, major, ...).",
      unit: "percentunit",
      targets: [
        new PrometheusTarget({
          expr: `sum by (service, kind) (rate(${r.gcDuration.name}_sum{${s}}${RATE}))`,
          legendFormat: "{{service}} {{kind}}",
        }),
      ],
    }),
    new TimeseriesPanel({
      title: "Event-loop delay p99",
      description: "How long ready callbacks wait; a busy loop delays every request and job.",
      unit: "s",
      targets: [
        new PrometheusTarget({
          expr: `max by (service) (${r.eventLoopLagP99.name}{${s}})`,
          legendFormat: "{{service}}",
        }),
      ],
    }),
    new TimeseriesPanel({
      title: "Open file descriptors",
      description:
        "Open descriptors (sockets included) as a share of the process limit, worst process per service.",
      unit: "percentunit",
      redFrom: 0.8,
      targets: [
        new PrometheusTarget({
          expr: `max by (service) (${r.openFds.name}{${s}} / ${r.maxFds.name}{${s}})`,
          legendFormat: "{{service}}",
        }),
      ],
    }),
  ];
}

function kubernetesPanels(env: Environment): Panel[] {
  const k8s = kubernetesNames(env);
  const ns = scope(undefined, `namespace="${k8s.namespace}"`);
  const pods = `${ns}, container=~"api|worker"`;
  return [
    new TimeseriesPanel({
      title: "Pod CPU",
      description: "CPU cores used by each API and worker pod (cAdvisor).",
      unit: "short",
      targets: [
        new PrometheusTarget({
          expr: `sum by (pod) (rate(${kubernetesMetrics.containerCpu.name}{${pods}}${RATE}))`,
          legendFormat: "{{pod}}",
        }),
      ],
    }),
    new TimeseriesPanel({
      title: "Pod memory (working set)",
      description: "Working-set memory of each API and worker pod, the figure compared with the limit.",
      unit: "bytes",
      targets: [
        new PrometheusTarget({
          expr: `sum by (pod) (${kubernetesMetrics.containerMemory.name}{${pods}})`,
          legendFormat: "{{pod}}",
        }),
      ],
    }),
    new TimeseriesPanel({
      title: "Available replicas",
      description: "Available replicas of the API and worker Deployments.",
      unit: "short",
      targets: [
        new PrometheusTarget({
          expr: `sum by (deployment) (${kubernetesMetrics.deploymentReplicasAvailable.name}{${ns}, deployment=~"${k8s.api}|${k8s.worker}"})`,
          legendFormat: "{{deployment}}",
        }),
      ],
    }),
    new TimeseriesPanel({
      title: "KEDA: queue length and worker replicas",
      description: "The SQS queue length KEDA reads, and the worker replicas its HPA runs.",
      unit: "short",
      width: 24,
      targets: [
        new PrometheusTarget({
          expr: `max(${kubernetesMetrics.kedaScalerMetric.name}{${ns}, scaledObject="${k8s.worker}"})`,
          legendFormat: "queue length",
        }),
        new PrometheusTarget({
          expr: `max(${kubernetesMetrics.hpaCurrentReplicas.name}{${ns}, horizontalpodautoscaler="${k8s.hpa}"})`,
          legendFormat: "worker replicas",
        }),
      ],
    }),
  ];
}

export function platformDashboard(env: Environment): GridDashboard {
  const ecs = env.platform === "ecs";
  const dashboard = new GridDashboard({
    uid: `ce-${env.name}-platform`,
    title: `content-engine ${env.name} / Platform`,
    description: `${ecs ? "ECS, Lambda" : "EKS pods, KEDA"} and Node runtime health of content-engine in ${env.name}. Generated by dashboards/; edit the source, not Grafana.`,
    tags: ["content-engine", env.name, env.platform, "generated"],
    variables: [
      new DatasourceVariable("datasource", "prometheus", "Prometheus"),
      ...(ecs ? [new DatasourceVariable("cloudwatch", "cloudwatch", "CloudWatch")] : []),
      new ConstantVariable(
        ENV_VARIABLE,
        env.name,
        "The environment: every PromQL query selects the env label the collector adds.",
      ),
    ],
    annotations: [new DeployAnnotation(deployMarker(env))],
  });
  if (ecs) {
    for (const section of awsPanels(env)) dashboard.addSection(section.title, section.panels);
    return dashboard.addSection("Node runtime (API)", runtimePanels("api"));
  }
  return dashboard
    .addSection("Node runtime (API and consumer)", runtimePanels("api|worker"))
    .addSection("EKS (pods and KEDA)", kubernetesPanels(env));
}
