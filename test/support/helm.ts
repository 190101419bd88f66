// Renders the chart with the real helm binary and validates manifests against the Kubernetes,
// KEDA and Prometheus Operator schemas shipped by kubernetes-models (no cluster, no network).
//
// Two kinds of values go through it: each environment file's values, rendered exactly as deploy-helm
// composes them from environments/<name>.yaml (so every file the repository holds is linted and
// rendered), and the chart-testing profiles in helm/content-engine/ci/, hand-written variants of the
// chart's options (Pod Identity or IRSA, autoscaling on or off, the Bedrock processor, …).
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Environment,
  eksSchema,
  environmentNames,
  loadEnvironments,
} from "@content-engine/environments";
import { parseAllDocuments, stringify } from "yaml";
import { layeredValues, releaseValues } from "../../actions/delivery/src/helm-values.ts";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import { type RunResult, run } from "./run.ts";

export const chartDir: string = join(repoRoot, "helm", "content-engine");
/** The repository's environment files: the only place environments are listed. */
export const environmentsDir: string = join(repoRoot, "environments");
/** Every environment, in promotion order, as the files in environments/ name them. */
export const environments: string[] = environmentNames(environmentsDir);
export type EnvironmentName = string;
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

/** The chart-testing profiles: `ci/<profile>-values.yaml`, each named for the variant it exercises. */
export const profiles: string[] = readdirSync(join(chartDir, "ci"))
  .map((file) => file.match(/^(.+)-values\.yaml$/)?.[1])
  .filter((name): name is string => name !== undefined)
  .sort();

/** The values file of a chart-testing profile (e.g. "minimal", "irsa"). */
export function ciValues(profile: string): string {
  if (!profiles.includes(profile))
    throw new Error(`no chart-testing profile ${profile}: ci/ holds ${profiles.join(", ")}`);
  return join(chartDir, "ci", `${profile}-values.yaml`);
}

/**
 * The release values deploy-helm computes from an environment file (its digest, the local processor
 * deploy-helm defaults to, the generated alerting rules, eks.valuesFiles and eks.set). A file without
 * an eks block cannot be deployed with helm, but the chart must still accept what the file implies:
 * it renders with the eks block's defaults (release content-engine, Pod Identity: no role ARNs).
 */
export function environmentReleaseValues(env: Environment): Record<string, unknown> {
  const onEks = env.eks ? env : { ...env, eks: eksSchema.parse({ cluster: env.api.cluster }) };
  return layeredValues(onEks, releaseValues(onEks, onEks.image.digest), {}, repoRoot).values;
}

/** Writes chart values to a fresh temporary values file and returns its path. */
export function writeValuesFile(values: unknown, prefix = "helm-values-"): string {
  const file = join(mkdtempSync(join(tmpdir(), prefix)), "values.yaml");
  writeFileSync(file, stringify(values));
  return file;
}

const valuesFiles = new Map<string, string>();

/** A values file holding what deploy-helm renders from environments/<env>.yaml (written once per test process). */
export function environmentValues(env: EnvironmentName): string {
  let file = valuesFiles.get(env);
  if (!file) {
    file = writeValuesFile(
      environmentReleaseValues(loadEnvironments(environmentsDir).get(env)),
      `helm-values-${env}-`,
    );
    valuesFiles.set(env, file);
  }
  return file;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

/** Renders an environment file's release values (with the monitoring CRDs present) and returns the manifests. */
export function renderEnvironment(
  env: EnvironmentName,
  apiVersions: string[] = monitoringApis,
  release?: string,
): Manifest[] {
  const result = helmTemplate({ release, valuesFiles: [environmentValues(env)], apiVersions });
  if (result.code !== 0) throw new Error(`helm template for ${env}'s values failed:\n${result.output}`);
  return parseManifests(result.stdout);
}

/** Renders a chart-testing profile (with the monitoring CRDs present) and returns the manifests. */
export function renderProfile(
  profile: string,
  apiVersions: string[] = monitoringApis,
  release?: string,
): Manifest[] {
  const result = helmTemplate({ release, valuesFiles: [ciValues(profile)], apiVersions });
  if (result.code !== 0)
    throw new Error(`helm template for ci/${profile}-values.yaml failed:\n${result.output}`);
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
