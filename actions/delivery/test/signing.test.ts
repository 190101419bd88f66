// Signed images against a real registry (crane) and the real cosign: what build-push signs and
// attaches, and what every deploy refuses. A local cosign key pair stands in for the KMS key here;
// the rehearsal signs through moto's KMS (awskms:///alias/content-engine-signing).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeServicesCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { GetFunctionCommand } from "@aws-sdk/client-lambda";
import { loadEnvironmentFile, setEnvironmentFields } from "@content-engine/environments";
import { beforeAll, describe, expect, it } from "vitest";
import { toolPath } from "../../../scripts/tools.ts";
import {
  awsFor,
  createEcsService,
  createWorkerFunction,
  devYaml,
  workerZip,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { pushStandInImage, useRegistry } from "../../../test/support/registry.ts";
import { run } from "../../../test/support/run.ts";
import { type CommandRunner, runCommand } from "../src/command.ts";
import { deployEcs } from "../src/ecs.ts";
import { deployHelm } from "../src/helm.ts";
import { deployLambda } from "../src/lambda.ts";
import { getManifest, pullBlob, pushWorkerBundle, putManifest } from "../src/registry.ts";
import { memoryReporter } from "../src/reporter.ts";
import {
  attachSbom,
  cosignSign,
  deployedTag,
  keepDeployed,
  listReferrers,
  SBOM_ARTIFACT_TYPE,
  signatureTag,
  verifyArtifacts,
  verifyManifestSignature,
} from "../src/signing.ts";

const registry = useRegistry();
const moto = useMoto();
const repository = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/content-engine";
const access = () => ({ endpoint: `http://${registry.host}` });
const keys = mkdtempSync(join(tmpdir(), "cosign-keys-"));

/** A cosign key pair (no password) in `dir`: cosign.key and cosign.pub. */
function keyPair(name: string) {
  const dir = join(keys, name);
  mkdirSync(dir, { recursive: true });
  const result = run(toolPath("cosign"), ["generate-key-pair"], { cwd: dir, env: { COSIGN_PASSWORD: "" } });
  expect(result.code, result.output).toBe(0);
  return {
    key: join(dir, "cosign.key"),
    pub: readFileSync(join(dir, "cosign.pub"), "utf8"),
    pubFile: join(dir, "cosign.pub"),
  };
}

let ours: ReturnType<typeof keyPair>;
let foreign: ReturnType<typeof keyPair>;
beforeAll(() => {
  ours = keyPair("ours");
  foreign = keyPair("foreign");
});

const pushImage = (label: string) => pushStandInImage(registry.host, repository, label);

/** cosign from .tools/bin (npm test puts it on PATH; a bare `npx vitest` may not). */
const cosign: CommandRunner = (command, args, options) =>
  runCommand(command === "cosign" ? toolPath("cosign") : command, args, options);

const sign = (key: string, digests: string[]) =>
  cosignSign(cosign, key, repository, digests, {
    endpoint: access().endpoint,
    reporter: memoryReporter(),
  });

describe("image signatures", () => {
  it("verifies what cosign signed with the environment's key, and cosign verify accepts the same signature", async () => {
    const digest = await pushImage("signed");
    await sign(ours.key, [digest]);
    expect(await verifyManifestSignature(repository, digest, ours.pub, access())).toEqual({
      ok: true,
      signatures: 1,
    });
    const cosign = run(
      toolPath("cosign"),
      [
        "verify",
        "--key",
        ours.pubFile,
        "--insecure-ignore-tlog",
        "--allow-http-registry",
        "--allow-insecure-registry",
        `${registry.host}/${repository}@${digest}`,
      ],
      {},
    );
    expect(cosign.code, cosign.output).toBe(0);
    expect(cosign.stdout).toContain(digest);
  });

  it("refuses an unsigned digest, naming the signature tag it looked for", async () => {
    const digest = await pushImage("unsigned");
    expect(await verifyManifestSignature(repository, digest, ours.pub, access())).toEqual({
      ok: false,
      reason: `${repository}@${digest} is not signed (no ${signatureTag(digest)})`,
    });
  });

  it("refuses a digest signed by another key (a foreign signer)", async () => {
    const digest = await pushImage("foreign");
    await sign(foreign.key, [digest]);
    const result = await verifyManifestSignature(repository, digest, ours.pub, access());
    expect(result).toEqual({
      ok: false,
      reason: `${repository}@${digest} is signed, but not by this environment's key`,
    });
  });

  it("refuses a signature copied from another image: the payload names the digest it was made for", async () => {
    const [signed, other] = [await pushImage("original"), await pushImage("impostor")];
    await sign(ours.key, [signed]);
    const signatures = (await getManifest(repository, signatureTag(signed), access()))!;
    await putManifest(repository, signatureTag(other), signatures, access());
    const result = await verifyManifestSignature(repository, other, ours.pub, access());
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(`names ${signed}, not ${other}`);
  });

  it("signs the worker bundle's manifest, found again from the zip digest the environment file records", async () => {
    const zip = workerZip("export const handler = async () => ({ batchItemFailures: [] });");
    const first = await pushWorkerBundle(repository, zip, "main-aaaaaaa-worker", {
      ...access(),
      revision: "a".repeat(40),
    });
    expect(await verifyArtifacts(repository, { bundle: first.digest }, ours.pub, access())).toContain(
      `worker bundle ${first.digest}: ${repository}@${first.manifest} is not signed`,
    );
    await sign(ours.key, [first.manifest]);
    expect(await verifyArtifacts(repository, { bundle: first.digest }, ours.pub, access())).toBeUndefined();
    // The same bytes built again (another commit): the bundle tag, immutable in ECR, keeps its manifest.
    const again = await pushWorkerBundle(repository, zip, "main-bbbbbbb-worker", {
      ...access(),
      revision: "b".repeat(40),
    });
    expect(again).toEqual(first);
  });

  it("refuses a worker bundle that was never pushed", async () => {
    const missing = `sha256:${"9".repeat(64)}`;
    expect(await verifyArtifacts(repository, { bundle: missing }, ours.pub, access())).toBe(
      `worker bundle ${missing}: no manifest (bundle-${"9".repeat(64)}) in ${repository}`,
    );
  });
});

describe("SBOMs and kept digests", () => {
  it("attaches SBOMs as OCI referrers of the image, each readable by its digest", async () => {
    const digest = await pushImage("with sbom");
    const sboms = [
      '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"h3"}]}',
      '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}',
    ];
    const referrers = [];
    for (const sbom of sboms)
      referrers.push(await attachSbom(repository, digest, Buffer.from(sbom), access()));
    const listed = await listReferrers(repository, digest, access());
    expect(listed.map((r) => [r.digest, r.artifactType])).toEqual(
      referrers.map((r) => [r, SBOM_ARTIFACT_TYPE]),
    );
    const manifest = JSON.parse(
      (await getManifest(repository, referrers[0]!, access()))!.bytes.toString(),
    ) as {
      subject: { digest: string };
      layers: Array<{ digest: string }>;
    };
    expect(manifest.subject.digest).toBe(digest);
    expect((await pullBlob(repository, manifest.layers[0]!.digest, access())).toString()).toBe(sboms[0]);
  });

  it("refuses to attach an SBOM to an image that does not exist", async () => {
    await expect(
      attachSbom(repository, `sha256:${"8".repeat(64)}`, Buffer.from("{}"), access()),
    ).rejects.toThrow("cannot attach the SBOM");
  });

  it("tags a deployed digest, its signatures and its SBOMs deployed-<hex>, once", async () => {
    const digest = await pushImage("deployed");
    await sign(ours.key, [digest]);
    const sbom = await attachSbom(repository, digest, Buffer.from('{"bomFormat":"CycloneDX"}'), access());
    expect(await keepDeployed(repository, [digest], access())).toEqual([
      deployedTag(digest),
      deployedTag(digest, ".sig"),
      deployedTag(sbom),
    ]);
    expect((await getManifest(repository, deployedTag(digest), access()))!.digest).toBe(digest);
    const signatures = (await getManifest(repository, signatureTag(digest), access()))!;
    expect((await getManifest(repository, deployedTag(digest, ".sig"), access()))!.digest).toBe(
      signatures.digest,
    );
    expect(await keepDeployed(repository, [digest], access())).toEqual([]);
  });
});

describe("deploy-ecs verifies before it changes anything", () => {
  // moto stamps every ECR token with expiresAt 2015-01-01: the deploy's clock runs from before that.
  const started = Date.now();
  const clock = {
    now: () => Date.parse("2014-12-31T00:00:00Z") + (Date.now() - started),
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  };

  const signedEnvironment = () => environmentWith(ours.pub);

  it("refuses an unsigned digest with the service still on its revision, and rolls out a signed one, tagged deployed-", async () => {
    const env = signedEnvironment();
    const running = await pushImage("running");
    const { ecs } = await createEcsService(moto.endpoint, env, `${repository}@${running}`, true);
    const before = await serviceTaskDefinition(ecs, env);
    const unsigned = await pushImage("unsigned deploy");
    const options = {
      env,
      aws: awsFor(moto.endpoint),
      registryEndpoint: access().endpoint,
      clock,
      pollSeconds: 0.05,
      reporter: memoryReporter(),
    };
    const refused = await deployEcs({ ...options, digest: unsigned });
    expect(refused.status).toBe("failed");
    expect(refused.reason).toBe(
      `refused: ${repository}@${unsigned} is not signed (no ${signatureTag(unsigned)}); nothing was changed (build-push signs what it pushes with awskms:///alias/content-engine-signing)`,
    );
    expect(await serviceTaskDefinition(ecs, env)).toBe(before);

    const signed = await pushImage("signed deploy");
    await sign(ours.key, [signed]);
    const outcome = await deployEcs({ ...options, digest: signed });
    expect(outcome.status, outcome.reason).toBe("succeeded");
    expect(await serviceTaskDefinition(ecs, env)).not.toBe(before);
    expect((await getManifest(repository, deployedTag(signed), access()))?.digest).toBe(signed);
  });
});

describe("deploy-lambda and deploy-helm verify before they change anything", () => {
  const started = Date.now();
  const clock = {
    now: () => Date.parse("2014-12-31T00:00:00Z") + (Date.now() - started),
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  };

  it("deploy-lambda refuses an unsigned worker bundle and leaves the function's code as it was", async () => {
    const zip = workerZip("// an unsigned bundle");
    const bundle = await pushWorkerBundle(repository, zip, "main-ccccccc-worker", access());
    const env = environmentWith(ours.pub, [
      { path: ["worker", "bundle"], value: bundle.digest },
      { path: ["worker", "functionName"], value: "signed-worker" },
    ]);
    const { lambda } = await createWorkerFunction(moto.endpoint, env, workerZip("// running"));
    const before = (await lambda.send(new GetFunctionCommand({ FunctionName: "signed-worker" })))
      .Configuration?.CodeSha256;
    const outcome = await deployLambda({
      env,
      aws: awsFor(moto.endpoint),
      registryEndpoint: access().endpoint,
      clock,
      reporter: memoryReporter(),
    });
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toContain(
      `refused: worker bundle ${bundle.digest}: ${repository}@${bundle.manifest} is not signed`,
    );
    expect(
      (await lambda.send(new GetFunctionCommand({ FunctionName: "signed-worker" }))).Configuration
        ?.CodeSha256,
    ).toBe(before);
  });

  it("deploy-helm refuses an unsigned digest before it reaches the cluster", async () => {
    const unsigned = await pushImage("unsigned for eks");
    const env = environmentWith(ours.pub, [{ path: ["platform"], value: "eks" }]);
    const outcome = await deployHelm({
      env,
      digest: unsigned,
      kubeconfig: "/nonexistent/kubeconfig", // never read: the refusal comes first
      aws: awsFor(moto.endpoint),
      registryEndpoint: access().endpoint,
      clock,
      reporter: memoryReporter(),
    });
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toContain(`refused: ${repository}@${unsigned} is not signed`);
  });
});

/** dev.yaml in a folder of its own, beside signing/cosign.pub holding `publicKey`. */
function environmentWith(publicKey: string, changes: Array<{ path: string[]; value: unknown }> = []) {
  const dir = mkdtempSync(join(tmpdir(), "signed-env-"));
  mkdirSync(join(dir, "signing"));
  writeFileSync(join(dir, "signing", "cosign.pub"), publicKey);
  const text = setEnvironmentFields(devYaml, [
    { path: ["region"], value: "eu-west-1" },
    { path: ["signing", "publicKey"], value: "signing/cosign.pub" },
    ...changes,
  ]);
  writeFileSync(join(dir, "dev.yaml"), text);
  return loadEnvironmentFile(join(dir, "dev.yaml"));
}

async function serviceTaskDefinition(ecs: ECSClient, env: ReturnType<typeof loadEnvironmentFile>) {
  const { services } = await ecs.send(
    new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }),
  );
  return services?.[0]?.taskDefinition;
}
