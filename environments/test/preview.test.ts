// Preview environments: names, the pull request number, and what a preview derives from its base.
import { describe, expect, it } from "vitest";
import {
  EnvironmentError,
  isPreviewName,
  loadEnvironment,
  parsePreviewName,
  previewEnvironment,
  previewName,
  previewNames,
  previewNumber,
} from "../src/index.ts";

const dev = loadEnvironment("dev");

describe("preview names", () => {
  it("pr-<n> for a pull request number, and back", () => {
    expect(previewName(12)).toBe("pr-12");
    expect(parsePreviewName("pr-12")).toBe(12);
    expect(previewNumber("7")).toBe(7);
    expect(previewNumber(99_999_999)).toBe(99_999_999);
    expect(isPreviewName("pr-3")).toBe(true);
    expect(isPreviewName("dev")).toBe(false);
  });

  it.each([0, -1, "abc", 1e9, 1.5, "", "12abc", "007", Number.NaN, undefined])(
    "refuses %s as a pull request number, naming it",
    (value) => {
      expect(() => previewNumber(value)).toThrow(EnvironmentError);
      expect(() => previewNumber(value)).toThrow(
        /pull request number .*: expected a whole number from 1 to 99999999/,
      );
    },
  );

  it.each(["pr-0", "pr-", "pr-abc", "dev", "pr-1-2", "PR-1", "pr-123456789"])(
    "refuses %s as a preview name",
    (name) => {
      expect(() => parsePreviewName(name)).toThrow(
        /is not a preview name: expected pr-<pull request number>/,
      );
    },
  );

  it("refuses a bad number where a name is made", () => {
    expect(() => previewName(0)).toThrow(EnvironmentError);
    expect(() => previewName(1e9)).toThrow(/1e\+?9|1000000000/);
  });
});

describe("previewEnvironment", () => {
  it("derives pr-<n> from the base: its own service, target group, function, queues, prefix", () => {
    const env = previewEnvironment(dev, 12, { digest: `sha256:${"a".repeat(64)}`, tag: "pr-12-abc" });
    expect(env.name).toBe("pr-12");
    expect(env.accountId).toBe(dev.accountId);
    expect(env.region).toBe(dev.region);
    expect(env.image).toEqual({ ...dev.image, digest: `sha256:${"a".repeat(64)}`, tag: "pr-12-abc" });
    expect(env.signing).toEqual(dev.signing);
    expect(env.api).toMatchObject({
      cluster: dev.api.cluster,
      service: `${dev.api.service}-pr-12`,
      loadBalancer: dev.api.loadBalancer,
      targetGroup: "content-engine-pr-12",
      desiredCount: 1,
      minCount: 1,
      maxCount: 1,
    });
    expect(env.worker).toMatchObject({ functionName: `${dev.worker.functionName}-pr-12`, alias: "live" });
    expect(env.worker.keda).toMatchObject({ minReplicas: 0, maxReplicas: 2 });
    expect(env.worker.canary).toBeUndefined();
    expect(env.queue.url).toBe(
      `https://sqs.${dev.region}.amazonaws.com/${dev.accountId}/content-engine-pr-12-jobs`,
    );
    expect(env.queue.dlqUrl).toBe(
      `https://sqs.${dev.region}.amazonaws.com/${dev.accountId}/content-engine-pr-12-jobs-dlq`,
    );
    expect(env.bucket).toBe(dev.bucket);
    expect(env.bucketPrefix).toBe("previews/pr-12/");
    expect(env.eks).toMatchObject({ namespace: `${dev.eks!.namespace}-pr-12`, release: dev.eks!.release });
    expect(env.alarms.pageTopicArn).toBe(dev.alarms.pageTopicArn);
    expect(env.alarms.deploymentAlarms).toEqual([]);
    expect(env.drift.reconcile).toBe(false);
    expect(env.promotion.freezeWindows).toEqual([]);
    expect("from" in env.promotion).toBe(false);
    expect("previews" in env).toBe(false);
  });

  it("keeps every AWS name inside its limit at the largest number", () => {
    const names = previewNames(dev, 99_999_999);
    expect(names.targetGroup.length).toBeLessThanOrEqual(32);
    expect(names.queue.length).toBeLessThanOrEqual(80);
    expect(names.functionName.length).toBeLessThanOrEqual(64);
    expect(names.url).toBe(`https://pr-99999999.${dev.previews!.domain}`);
  });

  it("needs a base with a previews block, and not a preview", () => {
    const { previews: _, ...without } = dev;
    expect(() => previewEnvironment(without, 3)).toThrow(/has no previews block/);
    expect(() => previewEnvironment(previewEnvironment(dev, 3), 4)).toThrow(/pr-3 is a preview/);
    expect(() => previewEnvironment(dev, 0)).toThrow(EnvironmentError);
  });
});
