// A local OCI registry (crane registry serve) on a free loopback port: the rehearsal's stand-in for
// ECR, and the registry the signing tests push to. `useRegistry()` starts one per test file.
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll } from "vitest";
import { pushBlob, putManifest, sha256Digest } from "../../actions/delivery/src/registry.ts";
import { toolPath } from "../../scripts/tools.ts";
import { freePort } from "./moto.ts";

export interface Registry {
  /** host:port */
  host: string;
  stop(): void;
}

export async function startRegistry(): Promise<Registry> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    toolPath("crane"),
    ["registry", "serve", "--address", `127.0.0.1:${port}`],
    {
      stdio: "ignore",
    },
  );
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("crane registry did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host: `127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") };
}

/** A registry for the tests of one file: `registry.host` is set once beforeAll has run. */
export function useRegistry(): { host: string } {
  const handle = { host: "" };
  let registry: Registry | undefined;
  beforeAll(async () => {
    registry = await startRegistry();
    handle.host = registry.host;
  });
  afterAll(() => registry?.stop());
  return handle;
}

/**
 * A small image (a config, no layers: not runnable) pushed under `repository`, for a test or a chain
 * that needs a digest no build made (one nobody signed, one whose rollout fails). Returns its digest.
 */
export async function pushStandInImage(registry: string, repository: string, label: string): Promise<string> {
  const access = { endpoint: `http://${registry}` };
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", config: { Labels: { label } } }),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: await pushBlob(repository, config, access),
      size: config.length,
    },
    layers: [],
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return putManifest(repository, sha256Digest(bytes), { bytes, mediaType: manifest.mediaType }, access);
}
