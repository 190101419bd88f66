// The chart a deploy-helm run installs: the run's chart input, else eks.chart of the environment file (a
// directory, or an OCI reference pinned by version or by digest), else this repository's chart. An OCI
// chart is pulled once per run with `helm pull`, and the digest the registry served is checked against
// the pin before helm renders anything from it.
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Environment, environmentSource } from "@content-engine/environments";
import type { CommandRunner } from "./command.ts";
import { DeliveryError } from "./errors.ts";
import { DEFAULT_CHART, eksOf } from "./helm-values.ts";

export interface ResolvedChart {
  /** What helm gets: a directory or a pulled .tgz. */
  path: string;
  /** How the plan names it: the directory, or oci://…:version / oci://…@sha256:… */
  source: string;
  /** The manifest digest the registry served (OCI charts only). */
  digest?: string;
}

/**
 * The chart to install, pulled and verified when it comes from a registry.
 *
 * @example
 * // eks.chart: { oci: "oci://123.dkr.ecr.eu-west-1.amazonaws.com/charts/content-engine", version: "1.4.0" }
 * const chart = await resolveChart({ env, helm: "helm", run: runCommand });
 * chart.path; // /tmp/helm-chart-…/content-engine-1.4.0.tgz, chart.digest: "sha256:…"
 */
export async function resolveChart(options: {
  env: Environment;
  /** The run's chart input (a directory); wins over eks.chart. */
  chart?: string;
  helm: string;
  run: CommandRunner;
  /** What eks.chart.directory is relative to. */
  repositoryRoot?: string;
}): Promise<ResolvedChart> {
  if (options.chart) return { path: options.chart, source: options.chart };
  const chart = eksOf(options.env).chart;
  if (!chart) return { path: DEFAULT_CHART, source: DEFAULT_CHART };
  const field = `eks.chart of ${environmentSource(options.env)}`;
  if ("directory" in chart) {
    const root = options.repositoryRoot ?? process.env.GITHUB_WORKSPACE ?? process.cwd();
    const path = resolve(root, chart.directory);
    if (!existsSync(join(path, "Chart.yaml"))) {
      throw new DeliveryError(
        `${field}: ${chart.directory} is not a chart directory (no ${join(path, "Chart.yaml")})`,
      );
    }
    return { path, source: chart.directory };
  }
  const pinned = chart.oci.match(/@(sha256:[a-f0-9]{64})$/)?.[1];
  const destination = mkdtempSync(join(tmpdir(), "helm-chart-"));
  const pulled = await options.run(options.helm, [
    "pull",
    chart.oci,
    ...(chart.version ? ["--version", chart.version] : []),
    "--destination",
    destination,
  ]);
  const source = chart.version ? `${chart.oci}:${chart.version}` : chart.oci;
  if (pulled.code !== 0) {
    throw new DeliveryError(
      `${field}: helm pull ${source} failed: ${pulled.stderr.trim().split("\n").pop()}`,
    );
  }
  // helm prints "Digest: sha256:…" (the chart's manifest digest), on stdout or stderr by version.
  const served = `${pulled.stdout}\n${pulled.stderr}`.match(/^Digest: (sha256:[a-f0-9]{64})$/m)?.[1];
  if (!served) throw new DeliveryError(`${field}: helm pull ${source} reported no digest to verify`);
  if (pinned && served !== pinned) {
    throw new DeliveryError(
      `${field}: the registry served ${served} for ${chart.oci}, not the pinned digest: refusing to install it`,
    );
  }
  const archive = readdirSync(destination).find((name) => name.endsWith(".tgz"));
  if (!archive) throw new DeliveryError(`${field}: helm pull ${source} wrote no chart archive`);
  return { path: join(destination, archive), source, digest: served };
}
