// The names the Helm chart gives a release's workloads, as environments/src/names.ts produces them
// for alarms and dashboards, checked against what the real `helm template` renders with the values
// deploy-helm derives from each environment file.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  byKind,
  environmentReleaseValues,
  environmentsDir,
  helmTemplate,
  parseManifests,
  writeValuesFile,
} from "../../test/support/helm.ts";
import {
  type Environment,
  helmFullname,
  kubernetesNames,
  loadEnvironments,
  parseEnvironment,
  setEnvironmentFields,
} from "../src/index.ts";

const set = loadEnvironments(environmentsDir);
/** Some environment: the one deploy.yml builds for (every repository has exactly one). */
const sample = set.build;

function rendered(env: Environment, release: string) {
  const result = helmTemplate({ release, valuesFiles: [writeValuesFile(environmentReleaseValues(env))] });
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
    ["a release named for the environment", sample.name],
    ["a release that contains the chart's name", "blue-content-engine"],
    ["a release long enough that helm cuts the name at 63 characters", `r${"x".repeat(51)}1`],
  ])("are what helm template renders, for %s", (_what, release) => {
    const file = join(environmentsDir, `${sample.name}.yaml`);
    const text = setEnvironmentFields(readFileSync(file, "utf8"), [
      sample.eks
        ? { path: ["eks", "release"], value: release }
        : { path: ["eks"], value: { cluster: sample.api.cluster, release } },
    ]);
    const env = parseEnvironment(text, `environments/${sample.name}.yaml`);
    const names = kubernetesNames(env);
    const { deployments, scaledObjects } = rendered(env, release);
    expect(deployments).toEqual([names.api, names.worker].sort());
    expect(scaledObjects).toEqual(env.worker.keda ? [names.worker] : []);
    expect(helmFullname(release).length).toBeLessThanOrEqual(63);
  });

  it("of every environment file's release are rendered by the chart", () => {
    expect(set.environments.length).toBeGreaterThan(0);
    for (const env of set.environments) {
      expect(rendered(env, env.eks?.release ?? "content-engine").deployments, env.name).toContain(
        kubernetesNames(env).api,
      );
    }
  });
});
