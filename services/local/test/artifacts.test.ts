import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { JobStore } from "@content-engine/core";
import { toRecord } from "@content-engine/worker";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceEnv, startTestStack, submitText, waitFor } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let out: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  // Outside the repository, so nothing can be resolved from node_modules: the bundles must stand alone.
  out = mkdtempSync(join(tmpdir(), "ce-artifacts-"));
  for (const pkg of ["api", "worker"]) {
    execFileSync(process.execPath, ["build.ts", join(out, pkg)], {
      cwd: resolve(`services/${pkg}`),
      stdio: "pipe",
    });
  }
});
afterAll(async () => {
  await stack?.stop();
  rmSync(out, { recursive: true, force: true });
});

const env = () => serviceEnv(stack, { PORT: "0" });

describe("shipped artefacts", () => {
  it("runs the bundled API on its own and serves the docs assets it carries", async () => {
    const child = spawn(process.execPath, [join(out, "api", "main.mjs")], {
      env: env(),
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      let log = "";
      child.stdout!.on("data", (d) => {
        log += String(d);
      });
      const port = await waitFor(
        async () => /"port":(\d+)/.exec(log)?.[1],
        15_000,
        "the bundled API to listen",
      );
      expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toEqual({
        status: "healthy",
        service: "content-engine",
      });
      const css = await fetch(`http://127.0.0.1:${port}/docs/swagger-ui.css`);
      expect(css.status).toBe(200);
      expect((await css.text()).length).toBeGreaterThan(1000);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("packs the Lambda as a reproducible zip whose index.handler processes a real SQS record", async () => {
    const zipPath = join(out, "worker", "lambda.zip");
    const zip = readFileSync(zipPath);
    // The handler and the processor pool's thread script, which the pool loads from beside it.
    expect(Object.keys(unzipSync(zip))).toEqual(["index.mjs", "processor-thread.mjs"]);
    // Same sources → same bytes → same CodeSha256 on Lambda.
    execFileSync(process.execPath, ["build.ts", join(out, "worker2")], {
      cwd: resolve("services/worker"),
      stdio: "pipe",
    });
    expect(readFileSync(join(out, "worker2", "lambda.zip")).equals(zip)).toBe(true);

    const res = await submitText(stack.apiUrl, stack.key, "A short and happy note. Everyone enjoyed it.");
    const { jobId } = (await res.json()) as { jobId: string };
    const received = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.config.queueUrl,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const event = {
      Records: [toRecord(received.Messages![0]!, "arn:aws:sqs:us-east-1:000000000000:jobs", "us-east-1")],
    };
    const task = join(out, "task");
    mkdirSync(task);
    for (const [name, bytes] of Object.entries(unzipSync(zip))) writeFileSync(join(task, name), bytes);
    const script = `import("./index.mjs").then(async (m) => { const r = await m.handler(${JSON.stringify(event)}); console.log("RESULT " + JSON.stringify(r)); })`;
    // Asynchronously: the emulator lives in this process and must keep answering the child.
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      cwd: task,
      env: env(),
      encoding: "utf8",
    });
    expect(stdout).toContain('RESULT {"batchItemFailures":[]}');
    expect((await new JobStore(stack.s3, stack.config.bucket).get("acme", jobId))?.status).toBe("succeeded");
  });
});
