// Renders the chart with the real helm binary and validates manifests against the Kubernetes,
// KEDA and Prometheus Operator schemas shipped by kubernetes-models (no cluster, no network).
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import { type RunResult, run } from "./run.ts";

export const chartDir: string = join(repoRoot, "helm", "content-engine");
export const environments = ["dev", "staging", "prod"] as const;
export type EnvironmentName = (typeof environments)[number];
/** The Kubernetes version the chart is rendered for (EKS 1.34, as in terraform/modules/eks). */
export const kubeVersion = "1.34.0";
export const monitoringApis = [
  "monitoring.coreos.com/v1/ServiceMonitor",
  "monitoring.coreos.com/v1/PrometheusRule",
];

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are arbitrary nested objects
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are arbitrary nested objects
  [key: string]: any;
}

export interface TemplateOptions {
  /** Release name; "ce" unless given. */
  release?: string;
  valuesFiles?: string[];
  set?: string[];
  apiVersions?: string[];
}

export function helmTemplate(options: TemplateOptions = {}): RunResult {
  const args = [
    "template",
    options.release ?? "ce",
    chartDir,
    "--namespace",
    "content-engine",
    "--kube-version",
    kubeVersion,
  ];
  for (const file of options.valuesFiles ?? []) args.push("--values", file);
  for (const value of options.set ?? []) args.push("--set", value);
  for (const api of options.apiVersions ?? []) args.push("--api-versions", api);
  return run(toolPath("helm"), args);
}

export function ciValues(env: EnvironmentName): string {
  return join(chartDir, "ci", `${env}-values.yaml`);
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

/** Renders an environment's CI values (with the monitoring CRDs present) and returns the manifests. */
export function renderEnvironment(env: EnvironmentName, apiVersions: string[] = monitoringApis): Manifest[] {
  const result = helmTemplate({ valuesFiles: [ciValues(env)], apiVersions });
  if (result.code !== 0) throw new Error(`helm template for ${env} failed:\n${result.output}`);
  return parseManifests(result.stdout);
}

const modelModules: Record<string, string> = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "keda.sh/v1alpha1": "@kubernetes-models/keda/keda.sh/v1alpha1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

/** Validates one manifest against its schema; throws a message naming the kind, name and problem. */
export async function validateManifest(manifest: Manifest): Promise<void> {
  const specifier = modelModules[manifest.apiVersion];
  if (!specifier)
    throw new Error(
      `${manifest.kind} ${manifest.metadata.name}: no schema for apiVersion ${manifest.apiVersion}`,
    );
  const models = (await import(specifier)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = models[manifest.kind];
  if (!Model) throw new Error(`${manifest.apiVersion} has no kind ${manifest.kind}`);
  try {
    new Model(manifest).validate();
  } catch (error) {
    throw new Error(`${manifest.kind} ${manifest.metadata.name}: ${(error as Error).message}`);
  }
}

export function byKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

export function one(manifests: Manifest[], kind: string, nameSuffix: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name.endsWith(nameSuffix));
  if (found.length !== 1) throw new Error(`expected one ${kind} named *${nameSuffix}, found ${found.length}`);
  return found[0] as Manifest;
}
