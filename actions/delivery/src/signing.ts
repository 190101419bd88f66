// Signed images: build-push signs the image and the worker bundle with cosign (the KMS key terraform
// creates) and attaches the SBOM as an OCI referrer; every deploy verifies before it changes anything.
// Verification reads cosign's signature manifest (<repository>:sha256-<hex>.sig) and checks each
// simple-signing payload against the environment's public key with node:crypto: a deploy job needs
// neither the cosign binary nor access to the key. `cosign verify --key` accepts the same signatures.
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type Environment, environmentSource } from "@content-engine/environments";
import { type CommandRunner, runChecked } from "./command.ts";
import { DeliveryError } from "./errors.ts";
import { finish, type Outcome, Stopwatch } from "./outcome.ts";
import {
  bundleTag,
  getManifest,
  type Manifest,
  pullBlob,
  pushBlob,
  putManifest,
  type RegistryAccess,
  registryUrl,
  sha256Digest,
} from "./registry.ts";
import type { Reporter } from "./reporter.ts";

export const SIGNATURE_LAYER = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
const SIGNATURE_TYPE = "cosign container image signature";
export const SBOM_ARTIFACT_TYPE = "application/vnd.cyclonedx+json";
/** Tags that keep what an environment ran: the lifecycle rule never expires them (terraform/modules/ecr). */
export const DEPLOYED_TAG_PREFIX = "deployed-";

const hex = (digest: string) => digest.replace(/^sha256:/, "");
/** cosign's tag for the signatures of a manifest digest. */
export const signatureTag = (digest: string) => `sha256-${hex(digest)}.sig`;
/** The immutable tag a deploy adds to a manifest (and `.sig` to its signatures) it runs. */
export const deployedTag = (digest: string, suffix = "") => `${DEPLOYED_TAG_PREFIX}${hex(digest)}${suffix}`;

/** The PEM public key an environment names, read from beside its file; undefined without `signing`. */
export function environmentPublicKey(env: Environment): { file: string; pem: string } | undefined {
  if (!env.signing) return undefined;
  const file = resolve(dirname(environmentSource(env)), env.signing.publicKey);
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
    createPublicKey(pem);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DeliveryError(
      `${environmentSource(env)}: signing.publicKey: ${file} ${code === "ENOENT" ? "does not exist" : "is not a PEM public key"} (terraform output -raw signing_public_key)`,
    );
  }
  return { file, pem };
}

export type Verification = { ok: true; signatures: number } | { ok: false; reason: string };

/**
 * Whether `digest` (a manifest in `repository`) carries a cosign signature by `publicKey`: a
 * simple-signing payload naming exactly this digest, signed by that key. Unsigned, foreign and
 * tampered signatures each answer `ok: false` with the reason; an unreachable registry throws.
 */
export async function verifyManifestSignature(
  repository: string,
  digest: string,
  publicKey: string,
  access: RegistryAccess = {},
): Promise<Verification> {
  const signatures = await getManifest(repository, signatureTag(digest), access);
  if (!signatures)
    return { ok: false, reason: `${repository}@${digest} is not signed (no ${signatureTag(digest)})` };
  const layers =
    (JSON.parse(signatures.bytes.toString("utf8")) as { layers?: SignatureLayer[] }).layers ?? [];
  const key = createPublicKey(publicKey);
  let good = 0;
  let other = "";
  for (const layer of layers) {
    const signature = layer.annotations?.[SIGNATURE_ANNOTATION];
    if (layer.mediaType !== SIGNATURE_LAYER || !signature) continue;
    const payload = await pullBlob(repository, layer.digest, access);
    if (!verify("sha256", payload, key, Buffer.from(signature, "base64"))) {
      other ||= "signed, but not by this environment's key";
      continue;
    }
    const claim = parsePayload(payload);
    if (claim?.type !== SIGNATURE_TYPE || claim.digest !== digest) {
      other ||= `a signature by this key names ${claim?.digest ?? "no digest"}, not ${digest}`;
      continue;
    }
    good += 1;
  }
  if (good > 0) return { ok: true, signatures: good };
  return {
    ok: false,
    reason: `${repository}@${digest} is ${other || "not signed (its .sig holds no cosign signature)"}`,
  };
}

interface SignatureLayer {
  mediaType: string;
  digest: string;
  annotations?: Record<string, string>;
}

function parsePayload(payload: Buffer): { type?: string; digest?: string } | undefined {
  try {
    const { critical } = JSON.parse(payload.toString("utf8")) as {
      critical?: { type?: string; image?: { "docker-manifest-digest"?: string } };
    };
    return { type: critical?.type, digest: critical?.image?.["docker-manifest-digest"] };
  } catch {
    return undefined;
  }
}

/** The worker bundle's manifest (found by its `bundle-<hex>` tag), checked to hold exactly that zip. */
export async function bundleManifest(
  repository: string,
  bundle: string,
  access: RegistryAccess = {},
): Promise<Manifest | undefined> {
  const manifest = await getManifest(repository, bundleTag(bundle), access);
  if (!manifest) return undefined;
  const layers = (JSON.parse(manifest.bytes.toString("utf8")) as { layers?: SignatureLayer[] }).layers ?? [];
  if (!layers.some((layer) => layer.digest === bundle))
    throw new DeliveryError(`${repository}:${bundleTag(bundle)} does not hold the bundle ${bundle}`);
  return manifest;
}

/** What a deploy is about to run: the image digest and/or the worker bundle digest. */
export interface Artifacts {
  image?: string;
  bundle?: string;
}

/** The manifests behind what a deploy runs: the image's, and the worker bundle's found by its tag. */
async function artifactManifests(repository: string, artifacts: Artifacts, access: RegistryAccess) {
  const manifests: Array<{ what: string; digest?: string }> = [];
  if (artifacts.image) manifests.push({ what: "", digest: artifacts.image });
  if (artifacts.bundle) {
    const manifest = await bundleManifest(repository, artifacts.bundle, access);
    manifests.push({ what: `worker bundle ${artifacts.bundle}: `, digest: manifest?.digest });
  }
  return manifests;
}

/** Verifies every artifact; the first failure's reason, or undefined when all are signed by the key. */
export async function verifyArtifacts(
  repository: string,
  artifacts: Artifacts,
  publicKey: string,
  access: RegistryAccess = {},
): Promise<string | undefined> {
  for (const { what, digest } of await artifactManifests(repository, artifacts, access)) {
    if (!digest) return `${what}no manifest (${bundleTag(artifacts.bundle!)}) in ${repository}`;
    const result = await verifyManifestSignature(repository, digest, publicKey, access);
    if (!result.ok) return `${what}${result.reason}`;
  }
  return undefined;
}

export interface ArtifactGate {
  operation: string;
  target: string;
  env: Environment;
  artifacts: Artifacts;
  /** Registry access (endpoint override, ECR authorization). */
  access: () => Promise<RegistryAccess>;
  reporter: Reporter;
}

/**
 * Runs `deploy` only when what it would run is signed by the environment's key; refused: status
 * `failed`, nothing changed. Without `signing` in the file the deploy goes ahead with a warning.
 * In the account that owns the repository (the one that builds), what is about to run is then tagged
 * `deployed-…` first, so the lifecycle rule can never expire it (keepDeployed).
 */
export async function artifactGated(gate: ArtifactGate, deploy: () => Promise<Outcome>): Promise<Outcome> {
  const watch = new Stopwatch();
  const { env, reporter } = gate;
  if (!gate.artifacts.image && !gate.artifacts.bundle) return deploy();
  const key = environmentPublicKey(env);
  const repository = env.image.repository;
  let login: Promise<RegistryAccess> | undefined;
  const access = () => {
    login ??= gate.access();
    return login;
  };
  if (!key) {
    reporter.warn(
      `${environmentSource(env)} names no signing.publicKey: the image's signature is not verified`,
    );
  } else {
    const refused = await verifyArtifacts(repository, gate.artifacts, key.pem, await access());
    if (refused) {
      return finish(watch, {
        operation: gate.operation,
        target: gate.target,
        status: "failed",
        reason: `refused: ${refused}; nothing was changed (build-push signs what it pushes with ${env.signing?.key ?? "the signing key"})`,
      });
    }
    reporter.info(`signature verified with ${key.file}`);
  }
  if (repository.match(/^(\d{12})\.dkr\.ecr\./)?.[1] === env.accountId) {
    // Best effort: a deploy is not held back by a tag, but the summary says what may expire.
    try {
      const manifests = await artifactManifests(repository, gate.artifacts, await access());
      const kept = await keepDeployed(
        repository,
        manifests.flatMap((m) => m.digest ?? []),
        await access(),
      );
      if (kept.length > 0) reporter.info(`kept by the lifecycle rule: ${kept.join(", ")}`);
    } catch (error) {
      reporter.warn(
        `could not tag what is about to run ${DEPLOYED_TAG_PREFIX}… (${(error as Error).message}): the repository's lifecycle rule may expire it`,
      );
    }
  }
  return deploy();
}

/** The reference cosign is given: the repository as the registry endpoint override serves it. */
export function cosignReference(repository: string, digest: string, endpoint?: string) {
  const base = endpoint ?? process.env.REGISTRY_ENDPOINT_URL;
  return `${base ? `${new URL(base).host}/${repository}` : repository}@${digest}`;
}

/**
 * `cosign sign` of each digest with `key` (awskms:///… in production). No transparency-log upload:
 * the key, not a public log, is what deploys trust; the repository never leaves its account.
 */
export async function cosignSign(
  run: CommandRunner,
  key: string,
  repository: string,
  digests: string[],
  options: { endpoint?: string; awsEndpoint?: string; reporter: Reporter },
) {
  const base = options.endpoint ?? process.env.REGISTRY_ENDPOINT_URL;
  const http = base?.startsWith("http://") ? ["--allow-http-registry", "--allow-insecure-registry"] : [];
  for (const digest of digests) {
    const reference = cosignReference(repository, digest, options.endpoint);
    await runChecked(
      run,
      "cosign",
      ["sign", "--yes", "--key", key, "--tlog-upload=false", ...http, reference],
      {
        env: options.awsEndpoint ? { AWS_ENDPOINT_URL_KMS: options.awsEndpoint } : undefined,
        onLine: (line) => options.reporter.info(line),
      },
    );
    options.reporter.info(`signed ${repository}@${digest} with ${key}`);
  }
}

/**
 * Attaches an SBOM to a manifest as an OCI referrer (a manifest whose `subject` is the image), so
 * `GET /v2/<name>/referrers/<digest>` and `oras discover` find it. Returns the referrer's digest.
 */
export async function attachSbom(
  repository: string,
  subject: string,
  sbom: Uint8Array,
  access: RegistryAccess = {},
): Promise<string> {
  const image = await getManifest(repository, subject, access);
  if (!image) throw new DeliveryError(`cannot attach the SBOM: ${repository}@${subject} does not exist`);
  const empty = Buffer.from("{}");
  const configDigest = await pushBlob(repository, empty, access);
  const layer = await pushBlob(repository, sbom, access);
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    artifactType: SBOM_ARTIFACT_TYPE,
    config: { mediaType: "application/vnd.oci.empty.v1+json", digest: configDigest, size: empty.length },
    layers: [{ mediaType: SBOM_ARTIFACT_TYPE, digest: layer, size: sbom.byteLength }],
    subject: { mediaType: image.mediaType, digest: subject, size: image.bytes.length },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = sha256Digest(bytes);
  await putManifest(repository, digest, { bytes, mediaType: manifest.mediaType }, access);
  if (!(await referrersApi(repository, subject, access))) {
    // OCI 1.1's fallback for a registry without the referrers API: an index under sha256-<hex>.
    const index = await referrersIndex(repository, subject, access);
    if (!index.manifests.some((m) => m.digest === digest)) {
      index.manifests.push({
        mediaType: manifest.mediaType,
        digest,
        size: bytes.length,
        artifactType: SBOM_ARTIFACT_TYPE,
      });
      const indexBytes = Buffer.from(JSON.stringify(index));
      await putManifest(
        repository,
        referrersTag(subject),
        { bytes: indexBytes, mediaType: INDEX_TYPE },
        access,
      );
    }
  }
  return digest;
}

const INDEX_TYPE = "application/vnd.oci.image.index.v1+json";
const referrersTag = (digest: string) => `sha256-${hex(digest)}`;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
}

/** The referrers API's answer, or undefined when the registry has no such API (404). */
async function referrersApi(repository: string, subject: string, access: RegistryAccess) {
  const url = registryUrl(repository, `referrers/${subject}`, access);
  const response = await fetch(url, {
    headers: access.authorization ? { authorization: access.authorization } : {},
  });
  if (!response.ok) return undefined;
  return (await response.json()) as { manifests: Descriptor[] };
}

async function referrersIndex(repository: string, subject: string, access: RegistryAccess) {
  const existing = await getManifest(repository, referrersTag(subject), access);
  return existing
    ? (JSON.parse(existing.bytes.toString("utf8")) as { manifests: Descriptor[] })
    : { schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [] as Descriptor[] };
}

/** The artifacts that refer to a manifest (SBOMs…), by the referrers API or its tag fallback. */
export async function listReferrers(
  repository: string,
  subject: string,
  access: RegistryAccess = {},
): Promise<Descriptor[]> {
  const api = await referrersApi(repository, subject, access);
  return (api ?? (await referrersIndex(repository, subject, access))).manifests;
}

/**
 * Tags each manifest a deploy runs, its signatures and its referrers (SBOMs) `deployed-<hex>`
 * (`.sig` for signatures): the lifecycle rule keeps these, so no digest an environment file names or
 * a rollback returns to expires, nor what proves where it came from. Existing tags are left as they
 * are (ECR tags are immutable).
 */
export async function keepDeployed(repository: string, digests: string[], access: RegistryAccess = {}) {
  const kept: string[] = [];
  for (const digest of digests) {
    const referrers = (await listReferrers(repository, digest, access)).map((r) => r.digest);
    const wanted: Array<[source: string, tag: string]> = [
      [digest, deployedTag(digest)],
      [signatureTag(digest), deployedTag(digest, ".sig")],
      ...referrers.map((referrer): [string, string] => [referrer, deployedTag(referrer)]),
    ];
    for (const [source, tag] of wanted) {
      if (await getManifest(repository, tag, access)) continue;
      const manifest = await getManifest(repository, source, access);
      if (!manifest) continue; // an unsigned digest has no .sig to keep
      await putManifest(repository, tag, manifest, access);
      kept.push(tag);
    }
  }
  return kept;
}
