// The repository's chart as a registry holds it: `helm package` at a version, then `helm push` to a local
// registry (crane registry serve, plain HTTP), for the tests of charts pulled from OCI.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolPath } from "../../../../scripts/tools.ts";
import { repositoryRoot } from "./run-action.ts";

/** Pushes helm/content-engine as `version` to oci://<host>/charts/content-engine; the digest helm reports. */
export function pushChart(host: string, version: string): string {
  const dir = mkdtempSync(join(tmpdir(), "chart-package-"));
  const helm = toolPath("helm");
  const chart = join(repositoryRoot, "helm", "content-engine");
  const packaged = spawnSync(helm, ["package", chart, "--version", version, "--destination", dir], {
    encoding: "utf8",
  });
  if (packaged.status !== 0) throw new Error(`helm package failed: ${packaged.stderr}`);
  const pushed = spawnSync(
    helm,
    ["push", join(dir, `content-engine-${version}.tgz`), `oci://${host}/charts`, "--plain-http"],
    { encoding: "utf8" },
  );
  const digest = `${pushed.stdout}${pushed.stderr}`.match(/Digest: (sha256:[a-f0-9]{64})/)?.[1];
  if (pushed.status !== 0 || !digest) throw new Error(`helm push failed: ${pushed.stderr}`);
  return digest;
}
