import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ACTIONS, bundleAction, DIST_FILES, distFile, repositoryRoot } from "../src/bundle.ts";
import { ECS_TIMEOUT_SECONDS } from "../src/ecs.ts";
import { HELM_TIMEOUT_SECONDS } from "../src/helm.ts";
import { LAMBDA_TIMEOUT_SECONDS } from "../src/lambda.ts";
import { renderReadme } from "../src/readme.ts";
import { inputVariable, runBundledAction, scratchWorkspace } from "./support/run-action.ts";

const RECORDER = join(repositoryRoot, "actions", "delivery", "test", "support", "record-input-reads.ts");

/**
 * Where two bundles first differ, with some text around it (undefined when equal): a 2 MB one-line
 * bundle is too long for a readable diff.
 */
function firstDifference(committed: string, rebuilt: string) {
  if (committed === rebuilt) return undefined;
  let at = 0;
  while (at < committed.length && committed[at] === rebuilt[at]) at++;
  const around = (text: string) => text.slice(Math.max(0, at - 80), at + 80);
  return {
    offset: at,
    sizes: { committed: committed.length, rebuilt: rebuilt.length },
    committed: around(committed),
    rebuilt: around(rebuilt),
  };
}

/**
 * The actions that open pull requests or issues and page through GitHub's lists carry the full client
 * (github.ts: @actions/github's REST route table, pagination and undici's proxy dispatchers).
 */
const REST_CLIENT = ["drift", "preview", "promote", "rollback"];
/** The deploy actions only record GitHub deployments, through the small client (github-core.ts). */
const CORE_CLIENT = ["deploy-ecs", "deploy-helm", "deploy-lambda"];

describe.each(ACTIONS)("the %s action", (action) => {
  const yml = parse(readFileSync(join(repositoryRoot, "actions", action, "action.yml"), "utf8")) as {
    runs: unknown;
    inputs: Record<string, unknown>;
  };

  it("has a committed dist/ that rebuilding leaves unchanged (run npm run bundle -w @content-engine/delivery)", async () => {
    const rebuilt = await bundleAction(action);
    for (const file of DIST_FILES) {
      expect({
        file,
        ...firstDifference(readFileSync(distFile(action, file), "utf8"), rebuilt[file]),
      }).toEqual({
        file,
      });
    }
  });

  // Start-up is parse time (bench/delivery.ts): the full GitHub client and undici are ~700 KiB that only
  // the actions in REST_CLIENT run. Everything @content-engine/delivery exports is one import away from
  // every action, so this fails when a module with side effects (or a lost "sideEffects": false) drags
  // them back, or when a deploy action reaches github.ts instead of github-core.ts.
  const rest = REST_CLIENT.includes(action);
  const core = rest || CORE_CLIENT.includes(action);
  it(`bundles ${rest ? "the full GitHub client and undici" : core ? "only the small GitHub client (@octokit/core), no REST route table, no undici" : "no GitHub client: it never calls GitHub"}`, () => {
    const bundle = readFileSync(distFile(action, "action.js"), "utf8");
    const carries = {
      core: bundle.includes("octokit-core.js"),
      // plugin-rest-endpoint-methods' route table names every method; minifying keeps the keys.
      routeTable: bundle.includes("createDeploymentStatus"),
      undici: bundle.includes("UND_ERR_"),
    };
    expect(carries).toEqual({ core, routeTable: rest, undici: rest });
  });

  it("runs on node24 from dist/index.js", () => {
    expect(yml.runs).toEqual({ using: "node24", main: "dist/index.js" });
  });

  it("documents every input and output of action.yml in its README (run node actions/delivery/src/readme.ts)", () => {
    const file = join(repositoryRoot, "actions", action, "README.md");
    // Biome pads markdown tables; compare cell contents, not alignment.
    const cells = (text: string) =>
      text
        .split("\n")
        .map((line) => (line.startsWith("|") ? line.replace(/ *\| */g, "|").replace(/-{3,}/g, "---") : line))
        .join("\n");
    expect(cells(readFileSync(file, "utf8"))).toBe(cells(renderReadme(action)));
  });

  it("reads exactly the inputs action.yml declares, and names the bad one when an input is wrong", async () => {
    // The bundled action as the runner starts it, with `plan` set to a value no schema accepts and the
    // required inputs missing: it reads every input, rejects the run before any AWS, GitHub or docker
    // call with an error that names a declared input, and exits 1.
    const reads = join(mkdtempSync(join(tmpdir(), "input-reads-")), "reads.json");
    // An action without `plan` (environments reads files only) gets another value no schema accepts.
    const bad: Record<string, string> =
      "plan" in yml.inputs ? { plan: "not-a-boolean" } : { "changed-since": "not a commit" };
    const run = await runBundledAction(action, bad, {
      workspace: scratchWorkspace(),
      env: { RECORD_INPUT_READS: reads, AWS_ENDPOINT_URL: "http://127.0.0.1:9" },
      nodeArgs: ["--import", RECORDER],
    });
    expect(run.code).toBe(1);
    const named = /^::error::input ([a-z-]+): /m.exec(run.stdout)?.[1];
    expect(Object.keys(yml.inputs)).toContain(named);
    expect(JSON.parse(readFileSync(reads, "utf8"))).toEqual(
      Object.keys(yml.inputs).map(inputVariable).sort(),
    );
  });
});

describe("defaults resolved once, in the library", () => {
  it.each([
    ["deploy-ecs", ECS_TIMEOUT_SECONDS],
    ["deploy-lambda", LAMBDA_TIMEOUT_SECONDS],
    ["deploy-helm", HELM_TIMEOUT_SECONDS],
  ] as const)(
    "%s documents the library's timeout-seconds default in action.yml (the main passes the input on, or nothing)",
    (action, seconds) => {
      const yml = parse(readFileSync(join(repositoryRoot, "actions", action, "action.yml"), "utf8")) as {
        inputs: Record<string, { default?: string }>;
      };
      expect(yml.inputs["timeout-seconds"]?.default).toBe(String(seconds));
    },
  );
});
