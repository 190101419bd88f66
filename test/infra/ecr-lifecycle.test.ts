// Images that stay: 200 builds replayed against the lifecycle policy terraform renders for the shared
// repository (terraform/modules/ecr, rendered by the real terraform), with the tags build-push and the
// deploys really write (bundleTag, signatureTag, deployedTag from the delivery library).
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { environmentNames } from "@content-engine/environments";
import { beforeAll, describe, expect, it } from "vitest";
import { bundleTag, sha256Digest } from "../../actions/delivery/src/registry.ts";
import { deployedTag, signatureTag } from "../../actions/delivery/src/signing.ts";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import { type EcrImage, expiredImages, type LifecycleRule } from "../support/ecr-lifecycle.ts";
import { findOne, loadTerraformDir, modulesRoot } from "../support/hcl.ts";
import { run } from "../support/run.ts";

const ecrModule = join(modulesRoot, "ecr");

/**
 * The policy JSON terraform sends for the module's defaults plus `vars`: the module's own
 * `policy = templatefile(…)` expression and variables.tf, applied by terraform in an empty root.
 */
async function renderPolicy(vars: Record<string, number> = {}): Promise<{ rules: LifecycleRule[] }> {
  const module = await loadTerraformDir(ecrModule);
  const expression = String(findOne(module, "resource", "aws_ecr_lifecycle_policy", "this").body.policy)
    .replace(/^\$\{/, "")
    .replace(/\}$/, "")
    .replaceAll(`\${path.module}`, ecrModule);
  const dir = mkdtempSync(join(tmpdir(), "ecr-policy-"));
  copyFileSync(join(ecrModule, "variables.tf"), join(dir, "variables.tf"));
  writeFileSync(join(dir, "main.tf"), `output "policy" {\n  value = jsondecode(${expression})\n}\n`);
  const env = { TF_CLI_CONFIG_FILE: join(dir, "none"), TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };
  const args = ["apply", "-auto-approve", "-input=false", "-no-color", "-var", "name=content-engine"];
  for (const [name, value] of Object.entries(vars)) args.push("-var", `${name}=${value}`);
  const applied = run(toolPath("terraform"), args, { cwd: dir, env });
  if (applied.code !== 0) throw new Error(applied.output);
  const output = run(toolPath("terraform"), ["output", "-json", "policy"], { cwd: dir, env });
  return JSON.parse(output.stdout) as { rules: LifecycleRule[] };
}

const digestOf = (text: string) => sha256Digest(Buffer.from(text));

interface Build {
  image: string;
  bundle: string;
  workerManifest: string;
  sboms: string[];
}

/**
 * A repository's history: two builds a day, each pushing what build-push pushes (the image, its
 * signature, the worker bundle's manifest and its signature, three SBOM referrers). Every fourth build
 * is deployed to dev (tagged deployed-…, as the deploy does), every twelfth promoted to staging, every
 * sixtieth on to prod. The lifecycle policy runs once a day, as ECR runs it. Returns what is left and what ran.
 */
function replay(rules: LifecycleRule[], builds = 200) {
  const images = new Map<string, EcrImage>();
  const add = (digest: string, tags: string[], pushedAt: number) => {
    const image = images.get(digest) ?? { digest, tags: [], pushedAt };
    image.tags.push(...tags);
    images.set(digest, image);
  };
  const history: Build[] = [];
  const deployed: Build[] = [];
  // The environments in promotion order: the build environment gets every fourth build, each stage
  // after it a rarer one (every 12th, every 60th, ...), as promotions thin out along the order.
  const stages = environmentNames(join(repoRoot, "environments"));
  const serving: Record<string, Build | undefined> = {};
  for (let i = 0; i < builds; i++) {
    const day = i / 2;
    const build: Build = {
      image: digestOf(`image ${i}`),
      bundle: digestOf(`lambda.zip ${i}`),
      workerManifest: digestOf(`worker manifest ${i}`),
      sboms: [0, 1, 2].map((n) => digestOf(`sbom ${i}.${n}`)),
    };
    add(build.image, [`main-${i}`], day);
    add(digestOf(`sig ${build.image}`), [signatureTag(build.image)], day);
    add(build.workerManifest, [`main-${i}-worker`, bundleTag(build.bundle)], day);
    add(digestOf(`sig ${build.workerManifest}`), [signatureTag(build.workerManifest)], day);
    for (const sbom of build.sboms) add(sbom, [], day);
    history.push(build);
    if (i % 4 === 0) {
      // The deploy tags the image, the worker manifest, their signatures and the image's SBOMs.
      for (const manifest of [build.image, build.workerManifest]) {
        add(manifest, [deployedTag(manifest)], day);
        add(digestOf(`sig ${manifest}`), [deployedTag(manifest, ".sig")], day);
      }
      for (const sbom of build.sboms) add(sbom, [deployedTag(sbom)], day);
      deployed.push(build);
      stages.forEach((stage, n) => {
        if (i % (n === 0 ? 4 : 12 * 5 ** (n - 1)) === 0) serving[stage] = build;
      });
    }
    if (i % 2 === 1)
      for (const digest of expiredImages([...images.values()], rules, day)) images.delete(digest);
  }
  return { images, history, deployed, serving };
}

/** Everything a deploy of `build` needs in the registry: the image, the bundle, both signatures, the SBOMs. */
function needed(build: Build) {
  return [
    build.image,
    build.workerManifest,
    digestOf(`sig ${build.image}`),
    digestOf(`sig ${build.workerManifest}`),
    ...build.sboms,
  ];
}

describe("ECR lifecycle: images that stay", () => {
  let policy: { rules: LifecycleRule[] };
  beforeAll(async () => {
    policy = await renderPolicy();
  });

  it("keeps, after 200 builds, every digest an environment runs and every rollback target, with signatures and SBOMs", () => {
    const { images, deployed, serving } = replay(policy.rules);
    expect(deployed.length).toBe(50);
    const missing = deployed.flatMap(needed).filter((digest) => !images.has(digest));
    expect(missing, "deployed digests (or their signatures, bundles, SBOMs) the policy expired").toEqual([]);
    for (const [env, build] of Object.entries(serving)) expect(images.has(build!.image), env).toBe(true);
    expect(Object.keys(serving)).toEqual(environmentNames(join(repoRoot, "environments")));
  });

  it("still tidies: builds never deployed stay within keep_tagged_images, their untagged SBOMs expire", () => {
    const { images, history, deployed } = replay(policy.rules);
    const deployedImages = new Set(deployed.flatMap(needed));
    const others = [...images.values()].filter((image) => !deployedImages.has(image.digest));
    expect(others.filter((image) => image.tags.length > 0).length).toBeLessThanOrEqual(50);
    expect(others.filter((image) => image.tags.length === 0).every((image) => image.pushedAt > 99 - 7)).toBe(
      true,
    );
    const oldest = history[1]!; // never deployed (1 % 4 !== 0)
    expect(images.has(oldest.image)).toBe(false);
  });

  it("would lose prod's digest under the policy it replaced (newest 50 of any tag)", () => {
    const before = policy.rules
      .filter((rule) => rule.selection.tagPrefixList?.[0] !== "deployed-")
      .map((rule, index) => ({ ...rule, rulePriority: index + 1 }));
    const { images, serving, deployed } = replay(before);
    expect(images.has(serving.prod!.image)).toBe(false);
    expect(deployed.filter((build) => !images.has(build.image)).length).toBeGreaterThan(40);
  });

  it("renders the module's variables into the rules (keep_tagged_images, untagged_expiry_days, keep_deployed_days)", async () => {
    const custom = await renderPolicy({
      keep_tagged_images: 30,
      untagged_expiry_days: 3,
      keep_deployed_days: 400,
    });
    expect(custom.rules.map((rule) => [rule.selection.tagStatus, rule.selection.countNumber])).toEqual([
      ["tagged", 400],
      ["untagged", 3],
      ["any", 30],
    ]);
  });

  it("refuses a keep_deployed_days under a year (prod's digest must outlive it)", async () => {
    await expect(renderPolicy({ keep_deployed_days: 30 })).rejects.toThrow(
      "keep_deployed_days must be at least 365",
    );
  });

  it("evaluates rules as ECR does: an image claimed by a higher-priority rule is never counted by a lower one", () => {
    const rules: LifecycleRule[] = [
      {
        rulePriority: 1,
        selection: {
          tagStatus: "tagged",
          tagPrefixList: ["keep-"],
          countType: "sinceImagePushed",
          countUnit: "days",
          countNumber: 100,
        },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 },
        action: { type: "expire" },
      },
    ];
    const images: EcrImage[] = [
      { digest: "a", tags: ["keep-a", "main-a"], pushedAt: 0 },
      { digest: "b", tags: ["main-b"], pushedAt: 1 },
      { digest: "c", tags: ["main-c"], pushedAt: 2 },
    ];
    expect([...expiredImages(images, rules, 10)]).toEqual(["b"]);
    expect([...expiredImages(images, rules, 101)].sort()).toEqual(["a", "b"]);
  });
});
