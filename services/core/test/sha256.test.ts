import { createHash, createHmac } from "node:crypto";
import { Sha256Js } from "@smithy/core/checksum";
import { HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { NodeSha256 } from "../src/index.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("NodeSha256 (the AWS clients' sha256)", () => {
  it("hashes strings, arrays and views into a larger buffer like node:crypto", async () => {
    const backing = Buffer.from("xxhello worldyy");
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 11);
    for (const input of ["hello world", Buffer.from("hello world"), view]) {
      const h = new NodeSha256();
      h.update(input);
      expect(hex(await h.digest())).toBe(createHash("sha256").update("hello world").digest("hex"));
    }
  });

  it("keeps a plain hash open after a digest, as the SDK's does", async () => {
    const h = new NodeSha256();
    h.update("a");
    expect(hex(await h.digest())).toBe(createHash("sha256").update("a").digest("hex"));
    h.update("b");
    expect(hex(await h.digest())).toBe(createHash("sha256").update("ab").digest("hex"));
  });

  it("computes HMACs with string keys, reused array keys and equal-but-distinct array keys", async () => {
    const key = new Uint8Array(32).fill(7);
    const expected = (k: Buffer | string, data: string) => createHmac("sha256", k).update(data).digest("hex");
    for (const [secret, bytes] of [
      ["AWS4secret", "AWS4secret"],
      [key, Buffer.from(key)],
      [key, Buffer.from(key)],
      [new Uint8Array(32).fill(7), Buffer.from(key)],
      [new Uint8Array(32).fill(8), Buffer.alloc(32, 8)],
    ] as const) {
      const h = new NodeSha256(secret);
      h.update("string to sign");
      expect(hex(await h.digest())).toBe(expected(bytes, "string to sign"));
    }
  });

  it("refuses an update after an HMAC's digest, and starts over after reset", async () => {
    const h = new NodeSha256("k");
    h.update("x");
    await h.digest();
    expect(() => h.update("y")).toThrow(/already finished/);
    h.reset();
    h.update("y");
    expect(hex(await h.digest())).toBe(createHmac("sha256", "k").update("y").digest("hex"));
  });

  it("gives SigV4 signatures identical to the SDK's pure-JS SHA-256, request after request", async () => {
    const credentials = {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    };
    const signer = (sha256: typeof NodeSha256 | typeof Sha256Js) =>
      new SignatureV4({ credentials, region: "eu-west-1", service: "s3", sha256, uriEscapePath: false });
    const ours = signer(NodeSha256);
    const reference = signer(Sha256Js);
    const signingDate = new Date("2026-11-30T10:00:00Z");
    for (const key of ["a.txt", "b/ü c.txt", "a.txt"]) {
      const request = () =>
        new HttpRequest({
          method: "PUT",
          protocol: "https:",
          hostname: "bucket.s3.eu-west-1.amazonaws.com",
          path: `/${encodeURIComponent(key)}`,
          headers: { host: "bucket.s3.eu-west-1.amazonaws.com", "content-type": "text/plain" },
          body: Buffer.from(`body of ${key}`),
        });
      const a = (await ours.sign(request(), { signingDate })) as HttpRequest;
      const b = (await reference.sign(request(), { signingDate })) as HttpRequest;
      expect(a.headers.authorization).toBe(b.headers.authorization);
      expect(a.headers["x-amz-content-sha256"]).toBe(b.headers["x-amz-content-sha256"]);
    }
  });
});
