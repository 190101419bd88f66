// worker.canary: the schema's errors, the schedules it stands for (CodeDeploy's configurations), and the
// run's overrides. The schedules running against moto are in lambda.test.ts.
import { loadEnvironments } from "@content-engine/environments";
import { describe, expect, it } from "vitest";
import { ENVIRONMENTS_DIR, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { canarySchedule, overrideCanary } from "../src/lambda-canary.ts";

describe("worker.canary in the environment file", () => {
  const withCanary = (canary: unknown) => () => testEnvironment([[["worker", "canary"], canary]]);

  it("names the field when a linear canary has no interval", () => {
    expect(withCanary({ type: "linear", percent: 10 })).toThrow(
      "worker.canary.intervalSeconds: expected seconds per step (intervalSeconds) for type linear, got nothing",
    );
  });

  it("names the field when a canary is given several steps", () => {
    expect(withCanary({ type: "canary", percent: 10, intervalSeconds: 60, steps: 3 })).toThrow(
      "worker.canary.steps: expected 1 for type canary (use type linear for several steps), got number 3",
    );
  });

  it("refuses linear steps that would reach 100% before the full shift", () => {
    expect(withCanary({ type: "linear", percent: 30, intervalSeconds: 60, steps: 4 })).toThrow(
      "worker.canary.steps: expected percent × steps below 100 (at most 3 steps of 30%), got number 4",
    );
  });

  it("refuses an unknown type and step settings on all-at-once", () => {
    expect(withCanary({ type: "blue-green", percent: 10, intervalSeconds: 60 })).toThrow(
      'worker.canary.type: expected one of linear | canary | all-at-once, got "blue-green"',
    );
    expect(withCanary({ type: "all-at-once", percent: 10 })).toThrow(
      "worker.canary.percent: expected no percent, intervalSeconds, steps or minutes with type all-at-once, got number 10",
    );
  });

  it("reads the older { percent, minutes } of the committed files as a canary of minutes × 60 s", () => {
    const older = loadEnvironments(ENVIRONMENTS_DIR).environments.filter(
      (env) => env.worker.canary?.minutes === 5,
    );
    expect(older.length).toBeGreaterThan(0);
    for (const file of older) {
      expect(canarySchedule(file.worker.canary!)).toEqual({
        type: "canary",
        weights: [10],
        intervalSeconds: 300,
      });
    }
  });

  it("maps CodeDeploy's Linear10PercentEvery1Minute and Canary10Percent5Minutes to schedules", () => {
    expect(canarySchedule({ type: "linear", percent: 10, intervalSeconds: 60 })).toEqual({
      type: "linear",
      weights: [10, 20, 30, 40, 50, 60, 70, 80, 90],
      intervalSeconds: 60,
    });
    expect(canarySchedule({ type: "canary", percent: 10, intervalSeconds: 300 })).toEqual({
      type: "canary",
      weights: [10],
      intervalSeconds: 300,
    });
    expect(canarySchedule({ type: "all-at-once" })).toBeUndefined();
  });

  it("lets a run's inputs override the file, dropping what the new type does not take", () => {
    expect(
      overrideCanary({ percent: 10, minutes: 5 }, { type: "linear", intervalSeconds: "2" }, "inputs"),
    ).toEqual({ type: "linear", percent: 10, intervalSeconds: 2 });
    expect(() =>
      overrideCanary({ type: "linear", percent: 10, intervalSeconds: 60 }, { steps: "12" }, "the inputs"),
    ).toThrow(
      "the inputs: steps: expected percent × steps below 100 (at most 9 steps of 10%), got number 12",
    );
  });
});
