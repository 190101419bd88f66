import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/index.ts";

const minimal = {
  CONTENT_ENGINE_BUCKET: "content-engine-dev",
  CONTENT_ENGINE_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
};

describe("runtime configuration", () => {
  it("fills documented defaults from a minimal environment", () => {
    const config = loadConfig(minimal);
    expect(config).toMatchObject({
      region: "us-east-1",
      endpoint: undefined,
      maxUploadBytes: 25 * 1024 * 1024,
      processor: "local",
      port: 8000,
      workerMetricsPort: 9100,
      maxReceiveCount: 3,
    });
  });

  it("names the variable, what was expected and what it got", () => {
    expect(() => loadConfig({ ...minimal, CONTENT_ENGINE_MAX_UPLOAD_BYTES: "-5" })).toThrow(
      /CONTENT_ENGINE_MAX_UPLOAD_BYTES: expected .*, got "-5"/,
    );
    expect(() => loadConfig({ ...minimal, CONTENT_ENGINE_PROCESSOR: "gpt" })).toThrow(
      /CONTENT_ENGINE_PROCESSOR: expected one of "local", "bedrock", got "gpt"/,
    );
  });

  it("refuses a missing bucket, a bad bucket name and a queue URL that is not a URL", () => {
    expect(() => loadConfig({ CONTENT_ENGINE_QUEUE_URL: minimal.CONTENT_ENGINE_QUEUE_URL })).toThrow(
      /CONTENT_ENGINE_BUCKET: .*got nothing/,
    );
    expect(() => loadConfig({ ...minimal, CONTENT_ENGINE_BUCKET: "Bad_Bucket" })).toThrow(ConfigError);
    expect(() => loadConfig({ ...minimal, CONTENT_ENGINE_QUEUE_URL: "jobs" })).toThrow(
      /CONTENT_ENGINE_QUEUE_URL/,
    );
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ ...minimal, PORT: "" }).port).toBe(8000);
  });
});
