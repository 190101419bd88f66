// The chart's ServiceMonitors as the Prometheus Operator turns them into scrape configuration, for
// targets on this machine: the operator's own target labels first (namespace, the Kubernetes
// Service name as `service` and `job`), then the ServiceMonitor's relabelings — the part the chart
// owns and the dashboards depend on. No cluster runs here, so the service discovery is replaced by
// static targets; everything after it is what a cluster's Prometheus does.
import { stringify } from "yaml";
import { type Manifest, renderEnvironment } from "../../../test/support/helm.ts";

interface Relabeling {
  action?: string;
  sourceLabels?: string[];
  separator?: string;
  regex?: string;
  targetLabel?: string;
  replacement?: string;
}

/**
 * The chart rendered with the values deploy-helm derives from environments/<env>.yaml, as it would
 * install the release on EKS (the monitoring CRDs present).
 */
export function renderedChart(env: string, release: string): Manifest[] {
  return renderEnvironment(env, undefined, release);
}

/** The Service a ServiceMonitor selects: matching labels and a port of the endpoint's name. */
function selectedService(manifests: Manifest[], sm: Manifest): Manifest {
  const want = sm.spec.selector.matchLabels as Record<string, string>;
  const port = sm.spec.endpoints[0].port as string;
  const found = manifests.filter(
    (m) =>
      m.kind === "Service" &&
      Object.entries(want).every(([k, v]) => m.metadata.labels?.[k] === v) &&
      (m.spec.ports as Array<{ name: string }>).some((p) => p.name === port),
  );
  if (found.length !== 1)
    throw new Error(`ServiceMonitor ${sm.metadata.name} selects ${found.length} Services`);
  return found[0]!;
}

/** A Prometheus configuration scraping `targets` (component → host:port) as the chart's ServiceMonitors say. */
export function scrapeConfigFor(
  manifests: Manifest[],
  targets: Record<string, string>,
  remoteWriteUrl: string,
): string {
  const serviceMonitors = manifests.filter((m) => m.kind === "ServiceMonitor");
  if (serviceMonitors.length === 0) throw new Error("the chart rendered no ServiceMonitor");
  const scrapeConfigs = serviceMonitors.map((sm) => {
    const component = sm.metadata.labels?.["app.kubernetes.io/component"] ?? "";
    const target = targets[component];
    if (!target) throw new Error(`no local target for the ServiceMonitor ${sm.metadata.name} (${component})`);
    const endpoint = sm.spec.endpoints[0] as { path: string; relabelings?: Relabeling[] };
    const kubernetesService = selectedService(manifests, sm).metadata.name;
    return {
      job_name: `serviceMonitor/${sm.metadata.namespace}/${sm.metadata.name}/0`,
      metrics_path: endpoint.path,
      static_configs: [
        {
          targets: [target],
          labels: { namespace: sm.metadata.namespace, service: kubernetesService, job: kubernetesService },
        },
      ],
      relabel_configs: (endpoint.relabelings ?? []).map((r) => ({
        ...(r.action ? { action: r.action } : {}),
        ...(r.sourceLabels ? { source_labels: r.sourceLabels } : {}),
        ...(r.separator ? { separator: r.separator } : {}),
        ...(r.regex ? { regex: r.regex } : {}),
        ...(r.targetLabel ? { target_label: r.targetLabel } : {}),
        ...(r.replacement !== undefined ? { replacement: r.replacement } : {}),
      })),
    };
  });
  return stringify({
    global: { scrape_interval: "1s", scrape_timeout: "1s" },
    scrape_configs: scrapeConfigs,
    remote_write: [{ url: remoteWriteUrl, queue_config: { batch_send_deadline: "1s" } }],
  });
}
