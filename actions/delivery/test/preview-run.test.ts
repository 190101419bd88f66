// runPreview (what the preview action and `content-engine preview` run): up makes room under the cap
// first and comments on each reaped pull request through the GitHub API; reap does the same by age.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { awsFor, digest, testEnvironment, workerZip } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { baseWorld } from "../../preview/test/preview-world.ts";
import { listPreviews, upPreview } from "../src/preview.ts";
import { runPreview } from "../src/preview-run.ts";
import { memoryReporter } from "../src/reporter.ts";
import { scratchWorkspace } from "./support/run-action.ts";

const moto = useMoto({ env: { MOTO_ECS_SERVICE_RUNNING: "1" } });
beforeEach(() => moto.reset());
const base = testEnvironment();

/** The GitHub API's issue comments route, recorded. */
const comments: Array<{ issue: number; body: string; auth: string }> = [];
const github = createServer((req, res) => {
  let data = "";
  req.on("data", (chunk: Buffer) => {
    data += chunk.toString();
  });
  req.on("end", () => {
    const match = req.url?.match(/^\/repos\/acme\/content-engine\/issues\/(\d+)\/comments$/);
    if (req.method !== "POST" || !match) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"message":"Not Found"}');
      return;
    }
    comments.push({
      issue: Number(match[1]),
      body: (JSON.parse(data) as { body: string }).body,
      auth: req.headers.authorization ?? "",
    });
    res.writeHead(201, { "content-type": "application/json" }).end('{"id":1}');
  });
});
let apiUrl = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => github.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => github.close(() => resolve())));
beforeEach(() => {
  comments.length = 0;
});

const at = (iso: string) => ({
  now: () => Date.parse(iso),
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
});

async function previewAt(number: number, iso: string) {
  const outcome = await upPreview({
    base,
    number,
    digest: digest("a"),
    zipFile: workerZip("export const handler = async () => 'pr';"),
    aws: awsFor(moto.endpoint),
    reporter: memoryReporter(),
    clock: at(iso),
    pollSeconds: 0.05,
    timeoutSeconds: 20,
  });
  expect(outcome.status, outcome.reason).toBe("succeeded");
}

describe("runPreview", () => {
  it("up reaps the oldest over maxCount first and tells its pull request", async () => {
    await baseWorld(moto.endpoint, base);
    await previewAt(31, "2030-01-01T00:00:00Z");
    await previewAt(32, "2030-01-01T01:00:00Z");
    const outcome = await runPreview({
      command: "up",
      environmentsDir: `${scratchWorkspace()}/environments`,
      pullRequest: "33",
      digest: digest("b"),
      maxCount: 2,
      github: { token: "ghs_test", repository: "acme/content-engine", apiUrl, retries: 0 },
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      timeoutSeconds: 20,
      // The pull request's worker zip, as the CLI gives it.
      zipFile: await writeZip(),
    });
    expect(Array.isArray(outcome)).toBe(false);
    if (Array.isArray(outcome)) return;
    expect(outcome.status, outcome.reason).toBe("succeeded");
    expect(JSON.parse(outcome.outputs.reaped!)).toEqual([
      {
        number: 31,
        name: "pr-31",
        why: "count",
        reason: "preview pr-31 was removed: the oldest of 2, pr-33 needed the room",
        status: "succeeded",
      },
    ]);
    expect(comments).toEqual([
      {
        issue: 31,
        body: "preview pr-31 was removed: the oldest of 2, pr-33 needed the room.",
        auth: "token ghs_test",
      },
    ]);
    expect((await listPreviews(base, { aws: awsFor(moto.endpoint) })).map((p) => p.name).sort()).toEqual([
      "pr-32",
      "pr-33",
    ]);
  });

  it("reap destroys what is older than maxAgeHours and comments on each", async () => {
    await baseWorld(moto.endpoint, base);
    await previewAt(34, "2020-01-01T00:00:00Z");
    const outcome = await runPreview({
      command: "reap",
      environmentsDir: `${scratchWorkspace()}/environments`,
      github: { token: "ghs_test", repository: "acme/content-engine", apiUrl, retries: 0 },
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      timeoutSeconds: 20,
    });
    if (Array.isArray(outcome)) throw new Error("reap answers an outcome");
    expect(outcome.status, outcome.reason).toBe("succeeded");
    expect(comments.map((c) => [c.issue, c.body])).toEqual([
      [
        34,
        `preview pr-34 was removed: older than ${base.previews!.maxAgeHours} h (created 2020-01-01T00:00:00.000Z).`,
      ],
    ]);
  });
});

async function writeZip() {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const file = join(mkdtempSync(join(tmpdir(), "preview-zip-")), "lambda.zip");
  writeFileSync(file, workerZip("export const handler = async () => 'pr 33';"));
  return file;
}
