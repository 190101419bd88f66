// A stand-in for the EKS cluster's exporters (cAdvisor, kube-state-metrics, KEDA), which no test
// machine has: it serves the catalog's Kubernetes families for the chart's workloads, so the
// Platform dashboard's EKS queries run against series of the declared shape.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { kubernetesMetrics } from "@content-engine/telemetry";

export interface Workloads {
  namespace: string;
  api: string;
  worker: string;
  hpa: string;
}

export async function startKubernetesExporters(
  w: Workloads,
): Promise<{ url: string; stop(): Promise<void> }> {
  let scrapes = 0;
  const pods = [
    { pod: `${w.api}-7d9f-abcde`, container: "api" },
    { pod: `${w.worker}-5c8b-fghij`, container: "worker" },
  ];
  const server = createServer((_req, res) => {
    scrapes += 1;
    const k = kubernetesMetrics;
    const lines: string[] = [];
    const family = (def: { name: string; type: string; help: string }, samples: string[]) => {
      lines.push(`# HELP ${def.name} ${def.help}`, `# TYPE ${def.name} ${def.type}`, ...samples);
    };
    family(
      k.containerCpu,
      pods.map(
        (p) =>
          `${k.containerCpu.name}{namespace="${w.namespace}",pod="${p.pod}",container="${p.container}"} ${scrapes * 0.25}`,
      ),
    );
    family(
      k.containerMemory,
      pods.map(
        (p) =>
          `${k.containerMemory.name}{namespace="${w.namespace}",pod="${p.pod}",container="${p.container}"} 73400320`,
      ),
    );
    family(
      k.deploymentReplicasAvailable,
      [w.api, w.worker].map(
        (d) => `${k.deploymentReplicasAvailable.name}{namespace="${w.namespace}",deployment="${d}"} 1`,
      ),
    );
    family(k.hpaCurrentReplicas, [
      `${k.hpaCurrentReplicas.name}{namespace="${w.namespace}",horizontalpodautoscaler="${w.hpa}"} 2`,
    ]);
    family(k.kedaScalerMetric, [
      `${k.kedaScalerMetric.name}{namespace="${w.namespace}",scaledObject="${w.worker}",scaler="awsSqsQueueScaler",metric="s0-aws-sqs-queue"} 7`,
    ]);
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(`${lines.join("\n")}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
