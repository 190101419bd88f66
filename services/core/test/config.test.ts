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
      processingHeapMb: 320,
      // The only default of the idempotency window: the API and the sweep take this value.
      idempotencyTtlSeconds: 86_400,
    });
  });

  it("takes the processor threads' heap limit from the environment and refuses one that is not a number of MB", () => {
    expect(loadConfig({ ...minimal, CONTENT_ENGINE_PROCESSING_HEAP_MB: "1024" }).processingHeapMb).toBe(1024);
    expect(() => loadConfig({ ...minimal, CONTENT_ENGINE_PROCESSING_HEAP_MB: "512MB" })).toThrow(
      /CONTENT_ENGINE_PROCESSING_HEAP_MB: expected .*got "512MB"/,
    );
    expect(() => loadConfig({ ...minimal, CONTENT_ENGINE_PROCESSING_HEAP_MB: "0" })).toThrow(
      /CONTENT_ENGINE_PROCESSING_HEAP_MB/,
    );
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

  it("bounds every AWS call by default and takes the deadlines from the environment", () => {
    expect(loadConfig(minimal)).toMatchObject({
      awsConnectTimeoutMs: 3000,
      awsRequestTimeoutMs: 10_000,
      awsMaxAttempts: 3,
    });
    expect(
      loadConfig({
        ...minimal,
        CONTENT_ENGINE_AWS_CONNECT_TIMEOUT_MS: "500",
        CONTENT_ENGINE_AWS_REQUEST_TIMEOUT_MS: "2500",
        CONTENT_ENGINE_AWS_MAX_ATTEMPTS: "1",
      }),
    ).toMatchObject({ awsConnectTimeoutMs: 500, awsRequestTimeoutMs: 2500, awsMaxAttempts: 1 });
  });

  it("refuses an AWS deadline that is not a positive number of milliseconds, naming the variable", () => {
    expect(() => loadConfig({ ...minimal, CONTENT_ENGINE_AWS_REQUEST_TIMEOUT_MS: "0" })).toThrow(
      /CONTENT_ENGINE_AWS_REQUEST_TIMEOUT_MS: expected .*, got "0"/,
    );
    expect(() => loadConfig({ ...minimal, CONTENT_ENGINE_AWS_CONNECT_TIMEOUT_MS: "3s" })).toThrow(
      /CONTENT_ENGINE_AWS_CONNECT_TIMEOUT_MS: expected .*, got "3s"/,
    );
    expect(() => loadConfig({ ...minimal, CONTENT_ENGINE_AWS_MAX_ATTEMPTS: "50" })).toThrow(
      /CONTENT_ENGINE_AWS_MAX_ATTEMPTS: expected a value of at most 10, got "50"/,
    );
  });

  it("keeps every key on the bucket's root by default and takes a key prefix of lowercase segments ending in '/'", () => {
    expect(loadConfig(minimal).keyPrefix).toBe("");
    expect(loadConfig({ ...minimal, CONTENT_ENGINE_KEY_PREFIX: "" }).keyPrefix).toBe("");
    for (const prefix of ["previews/pr-12/", "pr-12/", "a/b-1/c2/", `${"a".repeat(199)}/`]) {
      expect(loadConfig({ ...minimal, CONTENT_ENGINE_KEY_PREFIX: prefix }).keyPrefix).toBe(prefix);
    }
  });

  it("refuses a key prefix that could leave its own folder or reach into another's, naming the variable", () => {
    const refusal = (prefix: string) => {
      try {
        loadConfig({ ...minimal, CONTENT_ENGINE_KEY_PREFIX: prefix });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(prefix)}`);
    };
    const format =
      'CONTENT_ENGINE_KEY_PREFIX: expected a key prefix: empty, or path segments of lowercase letters, digits and hyphens, each ending in "/" (e.g. "previews/pr-12/")';
    const cases: Array<[string, string]> = [
      ["/previews/pr-12/", `${format}, got "/previews/pr-12/"`],
      ["previews/../pr-12/", `${format}, got "previews/../pr-12/"`],
      ["../", `${format}, got "../"`],
      ["Previews/PR-12/", `${format}, got "Previews/PR-12/"`],
      ["previews/pr 12/", `${format}, got "previews/pr 12/"`],
      ["previews/pr-12", `${format}, got "previews/pr-12"`],
      ["previews//pr-12/", `${format}, got "previews//pr-12/"`],
      ["previews\\pr-12\\", `${format}, got "previews\\\\pr-12\\\\"`],
      [
        `${"a".repeat(200)}/`,
        `CONTENT_ENGINE_KEY_PREFIX: expected at most 200 characters, got "${"a".repeat(200)}/"`,
      ],
      [
        "uploads/",
        'CONTENT_ENGINE_KEY_PREFIX: expected a key prefix without a segment named "uploads" or "jobs" (the store\'s own folders), got "uploads/"',
      ],
      [
        "previews/jobs/",
        'CONTENT_ENGINE_KEY_PREFIX: expected a key prefix without a segment named "uploads" or "jobs" (the store\'s own folders), got "previews/jobs/"',
      ],
    ];
    for (const [prefix, message] of cases) {
      expect(refusal(prefix)).toBe(`invalid configuration:\n  ${message}`);
    }
  });

  it("names the bucket pattern when the bucket name is bad", () => {
    expect(() => loadConfig({ ...minimal, CONTENT_ENGINE_BUCKET: "Bad_Bucket" })).toThrow(
      'CONTENT_ENGINE_BUCKET: expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens), got "Bad_Bucket"',
    );
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ ...minimal, PORT: "" }).port).toBe(8000);
  });
});
