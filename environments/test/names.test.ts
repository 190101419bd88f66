// The names the Helm chart gives a release's workloads, as environments/src/names.ts produces them
// for alarms and dashboards, checked against what the real `helm template` renders.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { byKind, ciValues, helmTemplate, parseManifests } from "../../test/support/helm.ts";
import {
  defaultEnvironmentsDir,
  helmFullname,
  kubernetesNames,
  loadEnvironment,
  parseEnvironment,
} from "../src/index.ts";

function rendered(release: string) {
  const result = helmTemplate({ release, valuesFiles: [ciValues("prod")] });
  if (result.code !== 0) throw new Error(result.output);
  const manifests = parseManifests(result.stdout);
  return {
    deployments: byKind(manifests, "Deployment")
      .map((m) => m.metadata.name)
      .sort(),
    scaledObjects: byKind(manifests, "ScaledObject").map((m) => m.metadata.name),
  };
}

describe("the chart's workload names", () => {
  it.each([
    ["the default release", "content-engine"],
    ["a release named for the environment", "prod"],
    ["a release that contains the chart's name", "blue-content-engine"],
    ["a release long enough that helm cuts the name at 63 characters", `r${"x".repeat(51)}1`],
  ])("are what helm template renders, for %s", (_what, release) => {
    const text = readFileSync(join(defaultEnvironmentsDir(), "prod.yaml"), "utf8").replace(
      "release: content-engine",
      `release: "${release}"`,
    );
    const names = kubernetesNames(parseEnvironment(text, "environments/prod.yaml"));
    const { deployments, scaledObjects } = rendered(release);
    expect(deployments).toEqual([names.api, names.worker].sort());
    expect(scaledObjects).toEqual([names.worker]);
    expect(helmFullname(release).length).toBeLessThanOrEqual(63);
  });

  it("of every environment file's release are rendered by the chart", () => {
    for (const name of ["dev", "staging", "prod"] as const) {
      const env = loadEnvironment(name);
      expect(rendered(env.eks?.release ?? "content-engine").deployments).toContain(kubernetesNames(env).api);
    }
  });
});
