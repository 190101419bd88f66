// src/aws-direct.ts builds by hand the requests `send` builds, with the SDK's own parts (endpoint
// rules, signer, clock-skew handlers, retry classification) reached through their internals. So the
// SDK packages it depends on are pinned exactly, and an upgrade is a decision: it fails here until the
// pin moves, and the pin moves after the comparisons with `send` pass again on the new versions.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const core = fileURLToPath(new URL("..", import.meta.url));

/** Each package aws-direct depends on, and what of it the direct path relies on. */
const PINNED: Record<string, string> = {
  "@aws-sdk/client-s3": "S3Client's config and PutObject's endpoint rules",
  "@aws-sdk/client-sqs": "SQSClient's config and SendMessageBatch's endpoint rules",
  "@aws-sdk/core": "AwsSdkSigV4Signer's clock-skew handlers and the signing properties they read",
  "@smithy/core": "endpoint resolution, HttpRequest, the retry classification and Retry-After parsing",
  "@smithy/signature-v4": "the SigV4 signer",
  "@smithy/node-http-handler": "the request handler both paths send through (src/aws.ts)",
};

const RERUN =
  "src/aws-direct.ts builds by hand what send builds with this package: on the new version, run " +
  "`npx vitest run services/core/test/aws-direct` (aws-direct-wire.test.ts compares the requests with " +
  "send's byte for byte, aws-direct-recovery.test.ts the clock-skew and Retry-After recovery), fix what " +
  "differs, then move the pin in services/core/package.json";

const manifest = (file: string) =>
  JSON.parse(readFileSync(file, "utf8")) as { version: string; dependencies?: Record<string, string> };

/** The folder of the `name` Node loads for a module in `from`: in the nearest node_modules up the tree. */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function installedVersion(name: string, from: string): string | undefined {
  const dir = packageDir(name, from);
  return dir === undefined ? undefined : manifest(join(dir, "package.json")).version;
}

const pins = manifest(join(core, "package.json")).dependencies ?? {};

describe("the SDK versions aws-direct was checked against", () => {
  it("pins every @aws-sdk and @smithy dependency of services/core exactly, and names what it relies on", () => {
    const sdk = Object.keys(pins).filter((name) => /^@(aws-sdk|smithy)\//.test(name));
    expect(sdk.sort()).toEqual(Object.keys(PINNED).sort());
    for (const name of sdk) {
      expect(pins[name], `${name} must be pinned to one version (no ^ or ~): ${RERUN}`).toMatch(
        /^\d+\.\d+\.\d+$/,
      );
    }
  });

  it.each(Object.keys(PINNED))("runs %s at its pin", (name) => {
    const installed = installedVersion(name, join(core, "src"));
    expect(installed, `${name} is ${installed} in node_modules, pinned ${pins[name]}. ${RERUN}`).toBe(
      pins[name],
    );
  });

  it.each(["@aws-sdk/client-s3", "@aws-sdk/client-sqs"])(
    "shares the signer, clock-skew and retry code with %s, so both paths agree",
    (client) => {
      const from = packageDir(client, join(core, "src"))!;
      for (const name of ["@aws-sdk/core", "@smithy/core", "@smithy/signature-v4"]) {
        expect(
          installedVersion(name, from),
          `${client} loads another ${name} than aws-direct. ${RERUN}`,
        ).toBe(installedVersion(name, join(core, "src")));
      }
    },
  );
});
