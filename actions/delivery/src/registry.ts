// The worker bundle as an OCI artifact next to the image: pushed once by build-push, fetched by its
// sha256 by every deploy, so every environment a digest is promoted to runs the bytes the build environment ran. OCI distribution API over fetch
// (blob upload, manifest put, blob get): ECR accepts Basic auth with the GetAuthorizationToken password.
import { createHash } from "node:crypto";
import { ECRClient } from "@aws-sdk/client-ecr";
import type { Environment } from "@content-engine/environments";
import { type AwsOptions, createClient } from "./aws.ts";
import { ecrLogin } from "./ecr.ts";
import { DeliveryError, explainAwsError } from "./errors.ts";
import type { Reporter } from "./reporter.ts";
import type { Clock } from "./wait.ts";

export const WORKER_ARTIFACT_TYPE = "application/vnd.content-engine.worker.v1+zip";
const EMPTY_CONFIG = { mediaType: "application/vnd.oci.empty.v1+json", bytes: Buffer.from("{}") };
const MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";

export interface RegistryAccess {
  /**
   * Registry endpoint override (a mirror or a local registry), e.g. http://127.0.0.1:5001: the
   * repository's host becomes the first path segment there. Default REGISTRY_ENDPOINT_URL, else https://<host>.
   */
  endpoint?: string;
  /** Authorization header value, e.g. `Basic …` from an ECR login. */
  authorization?: string;
}

export const sha256Digest = (bytes: Uint8Array) =>
  `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

function locate(repository: string, access: RegistryAccess) {
  const slash = repository.indexOf("/");
  if (slash <= 0) throw new DeliveryError(`repository "${repository}" has no registry host`);
  const endpoint = access.endpoint ?? process.env.REGISTRY_ENDPOINT_URL;
  return endpoint
    ? { base: endpoint.replace(/\/$/, ""), name: repository }
    : { base: `https://${repository.slice(0, slash)}`, name: repository.slice(slash + 1) };
}

/** The URL of `/v2/<name>/<path>` for a repository, through the endpoint override when one is set. */
export function registryUrl(repository: string, path: string, access: RegistryAccess = {}): string {
  const { base, name } = locate(repository, access);
  return `${base}/v2/${name}/${path}`;
}

async function call(url: string, init: RequestInit, access: RegistryAccess, what: string) {
  const headers = new Headers(init.headers);
  if (access.authorization) headers.set("authorization", access.authorization);
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers });
  } catch (error) {
    throw new DeliveryError(`${what}: cannot reach ${new URL(url).host} (${(error as Error).message})`);
  }
  if (!response.ok) {
    const text = (await response.text()).slice(0, 300);
    const hint = response.status === 401 || response.status === 403 ? " (may this role pull/push here?)" : "";
    throw new DeliveryError(`${what} failed (${response.status})${hint}: ${text}`);
  }
  return response;
}

/** Uploads bytes as a blob (skipped when the registry has it); returns its digest. */
export async function pushBlob(
  repository: string,
  bytes: Uint8Array,
  access: RegistryAccess,
): Promise<string> {
  const { base, name } = locate(repository, access);
  const digest = sha256Digest(bytes);
  const head = await fetch(`${base}/v2/${name}/blobs/${digest}`, {
    method: "HEAD",
    headers: access.authorization ? { authorization: access.authorization } : {},
  }).catch(() => undefined);
  if (head?.ok) return digest;
  const started = await call(
    `${base}/v2/${name}/blobs/uploads/`,
    { method: "POST" },
    access,
    `start blob upload to ${repository}`,
  );
  const location = started.headers.get("location");
  if (!location) throw new DeliveryError(`registry of ${repository} returned no upload location`);
  const url = new URL(location, base);
  url.searchParams.set("digest", digest);
  await call(
    url.toString(),
    {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from(bytes),
    },
    access,
    `upload blob ${digest} to ${repository}`,
  );
  return digest;
}

/** The tag that finds a worker bundle's manifest from the zip's digest (what environment files record). */
export const bundleTag = (bundle: string) => `bundle-${bundle.replace(/^sha256:/, "")}`;

/**
 * Pushes the worker zip as an OCI artifact tagged `tag` and `bundle-<zip hex>`; returns the zip's
 * digest (sha256:<hex>, what environment files record) and the manifest's (what a signature signs).
 */
export async function pushWorkerBundle(
  repository: string,
  zip: Uint8Array,
  tag: string,
  access: RegistryAccess & { revision?: string } = {},
): Promise<{ digest: string; manifest: string }> {
  const configDigest = await pushBlob(repository, EMPTY_CONFIG.bytes, access);
  const digest = await pushBlob(repository, zip, access);
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    artifactType: WORKER_ARTIFACT_TYPE,
    config: { mediaType: EMPTY_CONFIG.mediaType, digest: configDigest, size: EMPTY_CONFIG.bytes.length },
    layers: [
      {
        mediaType: "application/zip",
        digest,
        size: zip.byteLength,
        annotations: { "org.opencontainers.image.title": "lambda.zip" },
      },
    ],
    annotations: access.revision ? { "org.opencontainers.image.revision": access.revision } : {},
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  await putManifest(repository, tag, { bytes, mediaType: MANIFEST_TYPE }, access);
  // Tags are immutable in ECR: the same zip built again keeps the manifest its bundle tag names.
  const known = await getManifest(repository, bundleTag(digest), access);
  if (known) return { digest, manifest: known.digest };
  await putManifest(repository, bundleTag(digest), { bytes, mediaType: MANIFEST_TYPE }, access);
  return { digest, manifest: sha256Digest(bytes) };
}

const MANIFEST_ACCEPT = [
  MANIFEST_TYPE,
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

export interface Manifest {
  bytes: Buffer;
  /** sha256 of the bytes: the manifest's digest. */
  digest: string;
  mediaType: string;
}

/** A manifest by tag or digest, or undefined when the registry has none there (404). */
export async function getManifest(
  repository: string,
  reference: string,
  access: RegistryAccess = {},
): Promise<Manifest | undefined> {
  const { base, name } = locate(repository, access);
  const url = `${base}/v2/${name}/manifests/${reference}`;
  const headers: Record<string, string> = { accept: MANIFEST_ACCEPT };
  if (access.authorization) headers.authorization = access.authorization;
  const response = await fetch(url, { headers }).catch((error: Error) => {
    throw new DeliveryError(
      `read ${repository}:${reference}: cannot reach ${new URL(url).host} (${error.message})`,
    );
  });
  if (response.status === 404) return undefined;
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? " (may this role pull here?)" : "";
    throw new DeliveryError(`read ${repository}:${reference} failed (${response.status})${hint}`);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  const digest = sha256Digest(bytes);
  if (reference.startsWith("sha256:") && digest !== reference)
    throw new DeliveryError(`${repository}@${reference} answered a manifest hashing to ${digest}`);
  const mediaType = response.headers.get("content-type")?.split(";")[0] ?? MANIFEST_TYPE;
  return { bytes, digest, mediaType };
}

/** Stores manifest bytes under a tag (or its digest); returns the manifest's digest. */
export async function putManifest(
  repository: string,
  reference: string,
  manifest: { bytes: Uint8Array; mediaType: string },
  access: RegistryAccess = {},
): Promise<string> {
  const { base, name } = locate(repository, access);
  await call(
    `${base}/v2/${name}/manifests/${reference}`,
    { method: "PUT", headers: { "content-type": manifest.mediaType }, body: Buffer.from(manifest.bytes) },
    access,
    `push the manifest ${repository}:${reference}`,
  );
  return sha256Digest(manifest.bytes);
}

/** Fetches a blob by digest and checks its bytes hash to that digest. */
export async function pullBlob(
  repository: string,
  digest: string,
  access: RegistryAccess = {},
): Promise<Buffer> {
  const { base, name } = locate(repository, access);
  const response = await call(
    `${base}/v2/${name}/blobs/${digest}`,
    { method: "GET" },
    access,
    `fetch ${repository}@${digest}`,
  );
  const bytes = Buffer.from(await response.arrayBuffer());
  const got = sha256Digest(bytes);
  if (got !== digest) throw new DeliveryError(`${repository}@${digest} answered bytes hashing to ${got}`);
  return bytes;
}

/** Basic authorization for the repository's ECR registry (masked by ecrLogin). */
export async function ecrAuthorization(
  ecr: ECRClient,
  repository: string,
  reporter: Reporter,
  now?: () => number,
) {
  const account = repository.match(/^(\d{12})\.dkr\.ecr\./)?.[1];
  const login = await ecrLogin(ecr, reporter, { ...(account ? { registryIds: [account] } : {}), now });
  const value = Buffer.from(`${login.username}:${login.password}`).toString("base64");
  reporter.secret(value);
  return `Basic ${value}`;
}

/** Access to an environment's image repository: an ECR login in its region, and the endpoint override. */
export async function registryAccess(
  env: Environment,
  options: { aws?: Partial<AwsOptions>; registryEndpoint?: string; reporter: Reporter; clock?: Clock },
): Promise<RegistryAccess> {
  const aws: AwsOptions = { region: env.region, ...options.aws };
  try {
    const authorization = await ecrAuthorization(
      createClient(ECRClient, aws),
      env.image.repository,
      options.reporter,
      options.clock?.now,
    );
    return { endpoint: options.registryEndpoint, authorization };
  } catch (error) {
    throw explainAwsError(error);
  }
}
