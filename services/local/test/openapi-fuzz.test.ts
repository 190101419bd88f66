import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toolPath } from "../../../scripts/tools.ts";
import { startTestStack } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false, maxUploadBytes: 64 * 1024 });
});
afterAll(async () => {
  await stack?.stop();
});

/** Runs a command without blocking this process: the emulator and the API live here. */
function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let output = "";
    child.stdout.on("data", (d) => {
      output += String(d);
    });
    child.stderr.on("data", (d) => {
      output += String(d);
    });
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("the API against its own OpenAPI document (schemathesis)", () => {
  it("never answers 5xx, and every answer matches the documented status, content type and schema", async () => {
    const { code, output } = await run(toolPath("schemathesis"), [
      "run",
      `${stack.apiUrl}/openapi.json`,
      "--header",
      `Authorization: Bearer ${stack.key}`,
      "--checks",
      "all",
      // Two checks judge bytes by schemathesis' own serialisation: a JSON object sent as a
      // text/html body, or a multipart field name with raw control bytes, count as "valid" to it.
      "--exclude-checks",
      "positive_data_acceptance,negative_data_rejection",
      "--max-examples",
      "25",
      "--seed",
      "20261125",
      "--no-color",
    ]);
    expect(code, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/\d+ generated/);
  });
});
