// npm run rehearse: the repository's own workflows, run with act on this host against moto, a local
// OCI registry, a local bare git remote and a fake GitHub, through the chains people use it for.
// Exits non-zero when any check fails; one line per chain; .artifacts/rehearsal.json holds every
// check's expected and observed value and every job's wall time.
//   REHEARSAL_CHAINS=push-dev,promote npm run rehearse   runs a subset (ids in chains.ts)
//   REHEARSAL_BREAK=dockerfile npm run rehearse          seeds a deliberate break (world.ts BREAKS): must go red
// Every AWS call the jobs make reaches moto through a recording proxy (world.ts): at the end, each is
// decided against the policies Terraform renders for the role that made it, and (when every chain ran)
// every granted action must have been used or carry a reason (test/support/iam-grant-reasons.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { type Environment, loadEnvironment } from "@content-engine/environments";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import { baseImages, podman } from "../support/containers.ts";
import { type AuditResult, auditFailures, auditRecord } from "../support/iam-audit.ts";
import { DELIVERY_GRANT_REASONS } from "../support/iam-grant-reasons.ts";
import { renderDeliveryRoles, subjectClaimKeys } from "../support/iam-roles.ts";
import type { ActContext } from "./act.ts";
import { CHAINS, type ChainResult, type Rehearsal, runChain } from "./chains.ts";
import { startDataPlane } from "./data-plane/serve.ts";
import { startFakeGitHub } from "./fake-github.ts";
import { cloneAt } from "./git.ts";
import {
  assume,
  client,
  createSigningKey,
  ENVIRONMENTS,
  environmentAt,
  flushIamRecord,
  iamRecord,
  overlays,
  provision,
  seedRemote,
  startMoto,
  startRegistry,
} from "./world.ts";

const REPOSITORY = "acme/content-engine";
const started = performance.now();
const artifacts = resolve(repoRoot, ".artifacts");
const logDir = join(artifacts, "rehearsal");
rmSync(logDir, { recursive: true, force: true });
mkdirSync(logDir, { recursive: true });

for (const tool of ["act", "crane", "moto_server", "git", "podman", "aws-lambda-rie"]) toolPath(tool);
// The base images the real Dockerfiles build on: offline stand-ins (scripts/containers/base-images.sh).
const base = baseImages();
const work = mkdtempSync(join(tmpdir(), "rehearsal-"));
const hooks = join(work, "hooks");
mkdirSync(hooks);
// moto with ECR tokens that do not expire in 2015 (moto_server.py says why); PATH keeps .tools/bin first.
process.env.MOTO_SERVER = join(repoRoot, "test", "rehearsal", "moto-server");
process.env.PATH = `${join(repoRoot, ".tools", "bin")}:${process.env.PATH ?? ""}`;
const moto = await startMoto();
const registry = await startRegistry();
const breakName = process.env.REHEARSAL_BREAK || undefined;
// The signing key in the building account; its public key is committed in the seed (environments/signing).
const signing = await createSigningKey(moto.endpoint, loadEnvironment("dev", join(repoRoot, "environments")));
const { bare } = seedRemote(repoRoot, work, breakName, signing);
const github = await startFakeGitHub(bare, REPOSITORY);
const dataPlane = await startDataPlane(moto.endpoint, registry.host);
const results: ChainResult[] = [];
let iam: AuditResult | undefined;
let iamFailures: string[] = [];
// The rehearsed Terraform (the seeded main's: a deliberate break in terraform/ applies) and environments.
const seededModules = join(cloneAt(bare, work, "main"), "terraform", "modules");
const environments = ENVIRONMENTS.map((name) => environmentAt(bare, "main", name));
try {
  await trustPolicies();
  for (const name of ENVIRONMENTS)
    await provision(moto.endpoint, environmentAt(bare, "main", name), { healthy: true });
  const ctx: ActContext = {
    root: repoRoot,
    work,
    bare,
    repository: REPOSITORY,
    token: "rehearsal-token",
    env: {
      REHEARSAL_REMOTE: bare,
      REHEARSAL_REGISTRY: registry.host,
      REHEARSAL_BUILD_IMAGE: base.BUILD_IMAGE,
      REHEARSAL_RUNTIME_IMAGE: base.RUNTIME_IMAGE,
      REHEARSAL_HOOKS: hooks,
      REHEARSAL_NODE_BIN: dirname(process.execPath),
      AWS_ENDPOINT_URL: moto.endpoint,
      REGISTRY_ENDPOINT_URL: `http://${registry.host}`,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_SERVER_URL: "https://github.example.invalid",
      REHEARSAL_IAM: join(work, "iam.json"),
    },
  };
  const rehearsal: Rehearsal = {
    ctx,
    github,
    moto: moto.endpoint,
    registry: registry.host,
    hooks,
    dataPlane,
    addEnvironment: async (env) => {
      environments.push(env);
      await trustPolicies();
      await provision(moto.endpoint, env, { healthy: true });
    },
    logs: (name, text) => writeFileSync(join(logDir, `${name}.log`), text),
  };
  const wanted = process.env.REHEARSAL_CHAINS?.split(",").filter(Boolean);
  for (const chain of CHAINS.filter((c) => !wanted || wanted.includes(c.id))) {
    const result = await runChain(rehearsal, chain);
    results.push(result);
    const failed = result.checks.filter((c) => !c.ok);
    process.stdout.write(
      `${result.ok ? "✔" : "✖"} ${chain.name.padEnd(42)} ${result.seconds.toFixed(1).padStart(6)} s  ${result.checks.length - failed.length}/${result.checks.length} checks\n`,
    );
    for (const check of failed) {
      process.stdout.write(
        `    ✖ ${check.name}: expected ${JSON.stringify(check.expected)}, observed ${JSON.stringify(check.observed)}\n`,
      );
    }
    if (result.error)
      process.stdout.write(`    ✖ ${result.error.split("\n").slice(0, 3).join("\n      ")}\n`);
    // A run that failed on purpose (the refused promotion) is not news when its chain is green.
    for (const run of result.ok ? [] : result.runs.filter((r) => !r.ok)) {
      process.stdout.write(`    (${run.workflow} failed: see .artifacts/rehearsal/*-${run.workflow}.log)\n`);
    }
  }
  // The policies as Terraform renders them with the signing key it created (world.ts made it in moto).
  const audited = await renderDeliveryRoles(environments, REPOSITORY, {
    modules: seededModules,
    signingKeyArns: await signingKeyArns(moto.endpoint, environments),
  });
  // Unused grants only when every chain ran: a subset leaves grants unused on purpose.
  await flushIamRecord();
  iam = auditRecord(iamRecord, audited, wanted ? undefined : DELIVERY_GRANT_REASONS);
  iamFailures = auditFailures(iam);
  process.stdout.write(
    `${iamFailures.length === 0 ? "✔" : "✖"} ${"IAM record: every call allowed for its role".padEnd(42)} ${" ".repeat(8)} ${iam.checkedCalls} calls, ${iam.checkedRequests} decisions${wanted ? " (unused grants not checked: a subset ran)" : ""}\n`,
  );
  for (const line of iamFailures) process.stdout.write(`    ${line}\n`);
} finally {
  await github.close();
  await dataPlane.stop();
  registry.stop();
  // The images this run tagged for its registry (a new port each run): gone with it, layers kept for the cache.
  forgetImages(registry.host);
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
}

function forgetImages(prefix: string) {
  const ids = podman(["images", "--format", "{{.ID}} {{.Repository}}"])
    .stdout.split("\n")
    .filter((line) => line.split(" ")[1]?.startsWith(`${prefix}/`))
    .map((line) => line.split(" ")[0]!);
  // By name (tags and pulled digests), never by id: an image may also carry a name of its own (a test's).
  const format = "{{range .RepoTags}}{{.}}\n{{end}}{{range .RepoDigests}}{{.}}\n{{end}}";
  const names = [...new Set(ids)].flatMap((id) =>
    podman(["image", "inspect", "--format", format, id], { allowFailure: true })
      .stdout.split("\n")
      .filter((name) => name.startsWith(`${prefix}/`)),
  );
  if (names.length > 0) podman(["rmi", ...new Set(names)], { allowFailure: true });
}

/** The trust policies of the roles Terraform creates, for the configure-aws-credentials stand-in. */
async function trustPolicies() {
  const roles = await renderDeliveryRoles(environments, REPOSITORY, { modules: seededModules });
  writeFileSync(
    join(work, "iam.json"),
    JSON.stringify({
      support: join(repoRoot, "test", "support"),
      claimKeys: await subjectClaimKeys(seededModules),
      roles: Object.fromEntries(roles.map((r) => [r.arn, { name: r.name, trust: r.trust }])),
    }),
  );
}

/** Each signing environment's key ARN (its file names the alias): what Terraform passes as signing_key_arn. */
async function signingKeyArns(endpoint: string, all: Environment[]) {
  const arns: Record<string, string> = {};
  for (const env of all) {
    const alias = env.signing?.key?.match(/^awskms:\/\/\/(alias\/.+)$/)?.[1];
    if (!alias) continue;
    const kms = client(KMSClient, endpoint, await assume(endpoint, env.deployRoleArn!), env.region);
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
    if (KeyMetadata?.Arn) arns[env.name] = KeyMetadata.Arn;
  }
  return arns;
}

const ok = results.length > 0 && results.every((r) => r.ok) && iam !== undefined && iamFailures.length === 0;
const seconds = (performance.now() - started) / 1000;
writeFileSync(
  join(artifacts, "rehearsal.json"),
  `${JSON.stringify({ ok, seconds, break: breakName ?? null, overlay: overlays(join(repoRoot, "environments")), chains: results, iam: iam && { ...iam, failures: iamFailures } }, null, 2)}\n`,
);
const checks = results.flatMap((r) => r.checks);
const passed = checks.filter((c) => c.ok).length;
// A chain that broke before any check ran counts as one failure.
const failed =
  checks.length -
  passed +
  results.filter((r) => !r.ok && r.checks.every((c) => c.ok)).length +
  (iam === undefined || iamFailures.length > 0 ? 1 : 0);
process.stdout.write(
  `${ok ? "✔ rehearsal green" : "✖ rehearsal red"} in ${seconds.toFixed(1)} s (.artifacts/rehearsal.json)\n` +
    // The closing line CI reads, like vitest's summary: every check of every chain.
    `rehearsal: ${passed} passed, ${failed} failed\n`,
);
process.exitCode = ok ? 0 : 1;
