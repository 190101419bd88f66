import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { loadEnvironment, setEnvironmentFields } from "@content-engine/environments";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createAlarm,
  createEcsService,
  createWorkerFunction,
  workerZip,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { errorLines, runBundledAction, scratchWorkspace } from "../../delivery/test/support/run-action.ts";

const moto = useMoto();

/** A local stand-in for the GitHub REST API (the one boundary faked): records every call. */
let server: Server;
let apiUrl: string;
const calls: string[] = [];
const bodies: Record<string, unknown> = {};
const read = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let data = "";
    req.on("data", (chunk: Buffer) => {
      data += chunk.toString();
    });
    req.on("end", () => resolve(data));
  });

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await read(req);
    // Octokit encodes the slashes of a ref or a path (heads%2Fmain); GitHub reads both forms.
    const route = `${req.method} ${decodeURIComponent(req.url?.split("?")[0] ?? "")}`;
    calls.push(`${req.method} ${decodeURIComponent(req.url ?? "")}`);
    if (body) bodies[route] = JSON.parse(body);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const repo = "/repos/acme/content-engine";
    if (!["Bearer ghs_test", "token ghs_test"].includes(req.headers.authorization ?? ""))
      return json(401, { message: "Bad credentials" });
    switch (route) {
      case `GET ${repo}/commits`:
        return json(200, [{ sha: "c0ffee", commit: { committer: { date: "2020-01-01T00:00:00Z" } } }]);
      case `GET ${repo}/git/ref/heads/main`:
        return json(200, { object: { sha: "base123" } });
      case `GET ${repo}/git/ref/heads/promote/staging`:
        return json(404, { message: "Not Found" });
      case `POST ${repo}/git/refs`:
        return json(201, {});
      case `GET ${repo}/contents/environments/staging.yaml`:
        return json(200, { sha: "blob" });
      case `PUT ${repo}/contents/environments/staging.yaml`:
        return json(200, {});
      case `GET ${repo}/pulls`:
        return json(200, []);
      case `POST ${repo}/pulls`:
        return json(201, { number: 12, html_url: "https://github.com/acme/content-engine/pull/12" });
      default:
        return json(404, { message: `no route ${route}` });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(async () => {
  calls.length = 0;
  await moto.reset();
});

function workspaceWithNewDevDigest() {
  const workspace = scratchWorkspace();
  const file = `${workspace}/environments/dev.yaml`;
  writeFileSync(
    file,
    setEnvironmentFields(readFileSync(file, "utf8"), [
      { path: ["image", "digest"], value: `sha256:${"b".repeat(64)}` },
      { path: ["image", "tag"], value: "main-bbbbbbb" },
    ]),
  );
  return workspace;
}

/** The bundled action promoting dev (which runs a newer digest) to staging. */
async function promoteDevToStaging() {
  const workspace = workspaceWithNewDevDigest();
  // dev serves what its file says (promote checks the live service and alias before moving it on).
  const dev = loadEnvironment("dev", `${workspace}/environments`);
  await createEcsService(moto.endpoint, dev, `${dev.image.repository}@${dev.image.digest}`);
  await createWorkerFunction(moto.endpoint, dev, workerZip("export const handler = 1;"));
  return runBundledAction(
    "promote",
    {
      from: "dev",
      to: "staging",
      "github-token": "ghs_test",
      "github-api-url": apiUrl,
      "aws-endpoint": moto.endpoint,
    },
    { workspace },
  );
}

describe("promote dist/index.js run as the runner runs it", () => {
  it("opens the promotion pull request through the REST API", async () => {
    const run = await promoteDevToStaging();
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ status: "succeeded", "pull-request-number": "12" });
    expect(calls.filter((call) => !call.includes("/compare/"))).toEqual([
      "GET /repos/acme/content-engine/commits?path=environments/dev.yaml&sha=main&per_page=1",
      "GET /repos/acme/content-engine/git/ref/heads/main",
      "GET /repos/acme/content-engine/git/ref/heads/promote/staging",
      "POST /repos/acme/content-engine/git/refs",
      "GET /repos/acme/content-engine/contents/environments/staging.yaml?ref=promote/staging",
      "PUT /repos/acme/content-engine/contents/environments/staging.yaml",
      "GET /repos/acme/content-engine/pulls?state=open&head=acme:promote/staging&base=main",
      "POST /repos/acme/content-engine/pulls",
    ]);
  });

  it("refuses while a dev alarm is in ALARM, with the reason in the summary and no write", async () => {
    const cloudwatch = await createAlarm(moto.endpoint, "content-engine-dev-dlq-depth");
    await cloudwatch.send(
      new SetAlarmStateCommand({
        AlarmName: "content-engine-dev-dlq-depth",
        StateValue: "ALARM",
        StateReason: "t",
      }),
    );
    const run = await promoteDevToStaging();
    expect(run.code).toBe(1);
    expect(run.outputs.refused).toBe("true");
    expect(run.summary).toContain("refused: dev has alarms in ALARM: content-engine-dev-dlq-depth");
    expect(calls.every((call) => call.startsWith("GET "))).toBe(true);
  });

  it("refuses a promotion from prod up to dev with one line", async () => {
    const run = await runBundledAction(
      "promote",
      { from: "prod", to: "dev", "github-token": "ghs_test", "github-api-url": apiUrl },
      { workspace: scratchWorkspace() },
    );
    expect(errorLines(run)).toEqual([
      "::error::cannot promote from prod to dev: dev is where builds land (no promotion.from in environments/dev.yaml); nothing promotes from prod",
    ]);
    expect(calls).toEqual([]);
  });
});
