import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setEnvironmentFields } from "@content-engine/environments";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { digest, ENVIRONMENTS_DIR } from "../../../test/support/delivery-fixtures.ts";
import { DeliveryError } from "../src/errors.ts";
import { memoryReporter } from "../src/reporter.ts";
import { planRollback, type RollbackOptions, rollback } from "../src/rollback.ts";
import { FAKE_REPOSITORY, FAKE_TOKEN, GitHubFake } from "./support/github-fake.ts";

const FILE = "environments/dev.yaml";
const devYaml = readFileSync(join(ENVIRONMENTS_DIR, "dev.yaml"), "utf8");

interface State {
  /** One hex character: the image digest is that character 64 times, the tag main-<7 of it>. */
  image: string;
  bundle?: string;
  /** Other fields of the file, as [path, value]. */
  other?: Array<[string[], unknown]>;
}

const text = (state: State) =>
  setEnvironmentFields(devYaml, [
    { path: ["image", "digest"], value: digest(state.image) },
    { path: ["image", "tag"], value: `main-${state.image.repeat(7)}` },
    ...(state.bundle ? [{ path: ["worker", "bundle"], value: digest(state.bundle) }] : []),
    ...(state.other ?? []).map(([path, value]) => ({ path, value })),
  ]);

let fake: GitHubFake;
let dir: string;

/** Commits each state to dev.yaml on main (oldest first); the last one is also the local checkout's file. */
function historyOf(...states: State[]): string[] {
  const shas = states.map((state) =>
    fake.commit({ [FILE]: text(state) }, `dev: main-${state.image.repeat(7)}`),
  );
  writeFileSync(join(dir, "dev.yaml"), text(states.at(-1)!));
  return shas;
}

function options(overrides: Partial<RollbackOptions> = {}): RollbackOptions {
  return {
    env: "dev",
    environmentsDir: dir,
    github: { token: FAKE_TOKEN, repository: FAKE_REPOSITORY, apiUrl: fake.url, retries: 0 },
    reporter: memoryReporter(),
    ...overrides,
  };
}

/** The changed lines between the local file and what the rollback branch committed. */
function committedChanges(): string[] {
  const before = readFileSync(join(dir, "dev.yaml"), "utf8").split("\n");
  const after = fake.fileOn("rollback/dev", FILE)!.split("\n");
  expect(after.length).toBe(before.length);
  return after.filter((line, i) => line !== before[i]);
}

const writes = () => fake.calls.filter((call) => !call.startsWith("GET "));

beforeEach(async () => {
  fake = await new GitHubFake().start();
  dir = mkdtempSync(join(tmpdir(), "rollback-"));
});
afterEach(() => fake.close());

describe("rollback (GitHub faked at the REST boundary)", () => {
  it("opens a pull request to the newest previous state that deployed successfully, with GitHub faked", async () => {
    const [a, b, c] = historyOf({ image: "a" }, { image: "b" }, { image: "c" });
    fake.deploy("dev", a!, "in_progress", "success", "inactive");
    const deployedB = fake.deploy("dev", b!, "in_progress", "success", "inactive");
    fake.deploy("dev", c!, "in_progress", "success");
    fake.deploy("staging", c!, "success"); // another environment's records count for nothing here

    const outcome = await rollback(options());

    expect(outcome.status).toBe("succeeded");
    expect(outcome.outputs).toEqual({
      "pull-request-number": "1",
      "pull-request-url": `https://github.com/${FAKE_REPOSITORY}/pull/1`,
      digest: digest("b"),
    });
    expect(outcome.revisions).toEqual({ previous: digest("c"), attempted: digest("b") });
    const pull = fake.pulls[0]!;
    expect(pull).toMatchObject({
      head: "rollback/dev",
      base: "main",
      title: "Roll back dev to main-bbbbbbb (sha256:bbbbbbbbbbbb)",
      labels: ["rollback"],
    });
    expect(pull.body).toContain(`| \`image.digest\` | \`${digest("c")}\` | \`${digest("b")}\` |`);
    expect(pull.body).toContain(`| \`image.tag\` | \`main-ccccccc\` | \`main-bbbbbbb\` |`);
    expect(pull.body).toContain(`- commit ${b!.slice(0, 7)} (`);
    expect(pull.body).toContain(
      `- deployment #${deployedB.id} of dev at commit ${b!.slice(0, 7)} (${deployedB.created_at}) succeeded (since superseded, inactive)`,
    );
    expect(pull.body).toContain(`+  digest: ${digest("b")}`);
    expect(pull.body).toContain("Merging deploys dev (deploy-env.yml)");
    expect(committedChanges()).toEqual([`  digest: ${digest("b")}`, "  tag: main-bbbbbbb"]);
    // The branch holds one commit on top of main; main itself is untouched.
    expect(fake.fileOn("main", FILE)).toBe(text({ image: "c" }));
  });

  it("skips a state whose deployment failed and says so (GitHub faked)", async () => {
    const [a, b, c] = historyOf({ image: "a" }, { image: "b" }, { image: "c" });
    fake.deploy("dev", a!, "success");
    const failed = fake.deploy("dev", b!, "in_progress", "failure");
    fake.deploy("dev", c!, "success");

    const plan = await planRollback(options());

    expect(plan.changes[0]).toEqual({ field: "image.digest", from: digest("c"), to: digest("a") });
    expect(plan.details[0]).toContain(
      `skipped main-bbbbbbb (sha256:bbbbbbbbbbbb) (commit ${b!.slice(0, 7)}): its deployment to dev did not succeed (deployment #${failed.id} at ${b!.slice(0, 7)}: failure)`,
    );
    expect(writes()).toEqual([]);
  });

  it("falls back to the file's history when the environment has no deployment records, and says so (GitHub faked)", async () => {
    historyOf({ image: "a" }, { image: "b" }, { image: "c" });
    fake.deploy("staging", fake.branches.get("main")!, "success");

    const outcome = await rollback(options());

    expect(outcome.status).toBe("succeeded");
    expect(outcome.outputs.digest).toBe(digest("b"));
    expect(outcome.reason).toContain(
      "no deployment records for dev: chose the previous state in the file's history",
    );
    expect(fake.pulls[0]!.body).toContain(
      "- no deployment records for dev: chose the previous state in the file's history",
    );
  });

  it("counts a deployment made at a later commit that did not touch the file (GitHub faked)", async () => {
    const [a] = historyOf({ image: "a" }, { image: "b" });
    const later = fake.commit({ "README.md": "docs" }, "docs only");
    fake.deploy("dev", a!, "failure");
    fake.deploy("dev", later, "success"); // the file held b there
    historyOf({ image: "c" });
    const plan = await planRollback(options());
    expect(plan.changes[0]?.to).toBe(digest("b"));
  });

  it("goes further back than the current state's first appearance: a second rollback does not return to what was rolled back from (GitHub faked)", async () => {
    const [a, b, c, b2] = historyOf({ image: "a" }, { image: "b" }, { image: "c" }, { image: "b" });
    for (const sha of [a!, b!, c!, b2!]) fake.deploy("dev", sha, "success");
    const plan = await planRollback(options());
    expect(plan.changes[0]?.to).toBe(digest("a"));
    expect(plan.details[0]).toContain(
      `skipped main-ccccccc (sha256:cccccccccccc) (commit ${c!.slice(0, 7)}): it came after main-bbbbbbb (sha256:bbbbbbbbbbbb) first appeared (commit ${b!.slice(0, 7)})`,
    );
  });

  it("returns to the state that preceded the current one's first appearance, even one also seen later (GitHub faked)", async () => {
    const shas = historyOf({ image: "a" }, { image: "c" }, { image: "b" }, { image: "c" }, { image: "b" });
    for (const sha of shas) fake.deploy("dev", sha, "success");
    const plan = await planRollback(options());
    expect(plan.changes[0]?.to).toBe(digest("c"));
  });

  it("refuses, naming the skipped states, when no earlier state deployed successfully (GitHub faked)", async () => {
    const [a, b] = historyOf({ image: "a" }, { image: "b" }, { image: "c" });
    fake.deploy("dev", a!, "error");
    fake.deploy("dev", b!, "failure");
    const outcome = await rollback(options());
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe(
      "refused: no earlier state of dev in the last 3 commit(s) of environments/dev.yaml on main deployed and stayed healthy (of 2 deployment record(s)); pick one with --to <digest>",
    );
    expect(outcome.outputs.refused).toBe("true");
    expect(outcome.diagnostics).toHaveLength(2);
    expect(writes()).toEqual([]);
  });

  it("with --to, rolls back to the newest state in the history holding that digest (GitHub faked)", async () => {
    const [a, b, c] = historyOf({ image: "a" }, { image: "b" }, { image: "c" });
    for (const sha of [a!, b!, c!]) fake.deploy("dev", sha, "success");
    const outcome = await rollback(options({ to: digest("a") }));
    expect(outcome.status).toBe("succeeded");
    expect(outcome.outputs.digest).toBe(digest("a"));
    expect(committedChanges()).toEqual([`  digest: ${digest("a")}`, "  tag: main-aaaaaaa"]);
    expect(fake.pulls[0]!.body).toContain("chosen with --to");
  });

  it("with --to a digest the file never held, refuses with a clear message and no write (GitHub faked)", async () => {
    historyOf({ image: "a" }, { image: "b" });
    const outcome = await rollback(options({ to: digest("e") }));
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe(
      `refused: ${digest("e")} never appeared in the last 2 commit(s) of environments/dev.yaml on main: pass a digest the file held (git log -p environments/dev.yaml)`,
    );
    expect(writes()).toEqual([]);
  });

  it("with --to the digest that runs now, is unchanged without calling GitHub (GitHub faked)", async () => {
    historyOf({ image: "a" }, { image: "b" });
    const outcome = await rollback(options({ to: digest("b") }));
    expect(outcome.status).toBe("unchanged");
    expect(outcome.reason).toBe(`dev already runs ${digest("b")} (main-bbbbbbb)`);
    expect(fake.calls).toEqual([]);
    expect((await planRollback(options({ to: digest("b") }))).noop).toBe(true);
  });

  it("rejects a --to that is no digest before any call (GitHub faked)", async () => {
    historyOf({ image: "a" }, { image: "b" });
    const error = await rollback(options({ to: "main-aaaaaaa" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toBe(
      'rollback target "main-aaaaaaa" is not an image digest: expected sha256:<64 lowercase hex characters>, as in image.digest of the environment file',
    );
    await expect(rollback(options({ to: `sha256:${"A".repeat(64)}` }))).rejects.toThrow(
      "is not an image digest",
    );
    expect(fake.calls).toEqual([]);
  });

  it("commits only the promotable fields and keeps comments and the current file's other fields (GitHub faked)", async () => {
    const [a, b] = historyOf(
      { image: "a", bundle: "1" },
      // A later change to a per-environment field, then a bad image: the rollback keeps the cpu.
      { image: "a", bundle: "1", other: [[["api", "cpu"], 512]] },
      { image: "c", bundle: "2", other: [[["api", "cpu"], 512]] },
    );
    fake.deploy("dev", a!, "success");
    fake.deploy("dev", b!, "success");
    const outcome = await rollback(options());
    expect(outcome.status).toBe("succeeded");
    expect(committedChanges()).toEqual([
      `  digest: ${digest("a")}`,
      "  tag: main-aaaaaaa",
      `  bundle: ${digest("1")}`,
    ]);
    const committed = fake.fileOn("rollback/dev", FILE)!;
    expect(committed).toContain("  cpu: 512");
    expect(committed).toContain("# The image that runs here. Deploys use the digest; the tag is for humans.");
    expect(committed.split("\n").filter((line) => line.trimStart().startsWith("#"))).toEqual(
      devYaml.split("\n").filter((line) => line.trimStart().startsWith("#")),
    );
  });

  it("updates the same pull request on a second run instead of opening another (GitHub faked)", async () => {
    const [a] = historyOf({ image: "a" }, { image: "b" });
    fake.deploy("dev", a!, "success");
    const first = await rollback(options());
    expect(first.reason).toMatch(/^opened pull request #1 /);
    const second = await rollback(options());
    expect(second.reason).toMatch(
      /^updated pull request #1 rolling dev back to sha256:a{64} \(main-aaaaaaa\)/,
    );
    expect(fake.pulls).toHaveLength(1);
    expect(fake.calls).toContain("PATCH /repos/acme/content-engine/git/refs/heads/rollback/dev");
    expect(fake.calls).toContain("PATCH /repos/acme/content-engine/pulls/1");
    expect(committedChanges()).toEqual([`  digest: ${digest("a")}`, "  tag: main-aaaaaaa"]);
  });

  it("plans without any GitHub write (GitHub faked)", async () => {
    historyOf({ image: "a" }, { image: "b" });
    const plan = await planRollback(options());
    expect(plan).toMatchObject({
      operation: "rollback",
      target: "acme/content-engine:rollback/dev",
      noop: false,
      steps: [
        "update branch rollback/dev from main",
        `commit ${FILE}`,
        "open or update the pull request into main",
      ],
    });
    expect(plan.details[0]).toContain("## Roll back dev to main-aaaaaaa (sha256:aaaaaaaaaaaa)");
    expect(writes()).toEqual([]);
  });

  it("reads the file's history page by page up to the limit (GitHub faked)", async () => {
    historyOf({ image: "a" }, { image: "b" }, { image: "c" }, { image: "d" });
    const plan = await planRollback(options({ historyLimit: 2 }));
    expect(plan.changes[0]?.to).toBe(digest("c"));
    expect(fake.calls.filter((call) => call.includes("/commits?"))).toEqual([
      `GET /repos/acme/content-engine/commits?path=${FILE}&sha=main&per_page=2&page=1`,
    ]);
  });
});
