import { JobStore } from "@content-engine/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsProxy, startAwsProxy } from "../../../test/support/aws-proxy.ts";
import { listKeys, serviceEnv, spawnService, startTestStack, submitText, waitFor } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let ingestProxy: AwsProxy;
let workerProxy: AwsProxy;

const KEYED = 24;
const UNKEYED = 8;
const SEED = 20_261_130;

/** A small deterministic PRNG, so a failing run can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

beforeAll(async () => {
  stack = await startTestStack({
    worker: false,
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 2,
    redriveAfterSeconds: 2,
    endpointFor: async (emulator) => {
      ingestProxy = await startAwsProxy(emulator);
      return ingestProxy.url;
    },
  });
  workerProxy = await startAwsProxy(stack.emulatorUrl);
});
afterAll(async () => {
  await stack?.stop();
  await ingestProxy?.stop();
  await workerProxy?.stop();
});

const paragraph = (i: number) =>
  `Report ${i}: the harbour authority expanded the container terminal, and shipping volumes grew steadily. `;
/** Every third document is long, so kills land in the middle of processing. */
const documentFor = (i: number) => paragraph(i).repeat(i % 3 === 0 ? 2500 : 20);

describe("chaos: a flapping backend during ingest, SIGKILLed consumers during processing", () => {
  it("leaves 0 jobs non-final, 0 orphan uploads and 0 duplicate jobs for retried Idempotency-Keys", async () => {
    const rand = random(SEED);
    // Ingest while S3 and SQS flap: in 40 % of 200 ms windows every request fails (a 503 or a dropped
    // connection), so a job's upload and its message often land on different sides of an outage.
    const windows = new Map<number, boolean>();
    ingestProxy.fault = () => {
      const w = Math.floor(Date.now() / 200);
      // The first second always fails, so the run sees an outage however fast ingest is: longer than
      // the AWS clients' own retries (3 attempts, backoff of a few hundred ms), which absorb a short one.
      if (!windows.has(w)) windows.set(w, windows.size < 5 || rand() < 0.4);
      if (!windows.get(w)) return undefined;
      return rand() < 0.5 ? "fail" : "reset";
    };
    const answersByKey = new Map<string, string[]>();
    const attempts = { total: 0, unavailable: 0 };
    const keyed = Array.from({ length: KEYED }, async (_, i) => {
      const key = `chaos-${SEED}-${i}`;
      for (let attempt = 0; attempt < 40; attempt++) {
        attempts.total++;
        const res = await submitText(stack.apiUrl, stack.key, documentFor(i), {
          headers: { "idempotency-key": key },
        }).catch(() => undefined);
        if (res?.status === 202) {
          const { jobId } = (await res.json()) as { jobId: string };
          answersByKey.set(key, [...(answersByKey.get(key) ?? []), jobId]);
          // Now and then the client did not hear the answer and retries anyway.
          if (rand() < 0.3) continue;
          return;
        }
        attempts.unavailable++;
        expect([undefined, 503]).toContain(res?.status);
        await res?.text();
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no 202 for ${key} in 40 attempts`);
    });
    const unkeyed = Array.from({ length: UNKEYED }, async (_, i) => {
      const res = await submitText(stack.apiUrl, stack.key, documentFor(KEYED + i)).catch(() => undefined);
      if (res?.status === 202) return ((await res.json()) as { jobId: string }).jobId;
      await res?.text();
      return undefined;
    });
    await Promise.all(keyed);
    const unkeyedAnswers = await Promise.all(unkeyed);
    const acceptedUnkeyed = unkeyedAnswers.filter((id): id is string => id !== undefined);
    ingestProxy.fault = () => undefined;
    expect(attempts.unavailable).toBeGreaterThan(0);

    // One job per key, however often it was retried and answered.
    for (const [key, ids] of answersByKey) expect(new Set(ids).size, key).toBe(1);
    const keyedIds = [...answersByKey.values()].map((ids) => ids[0]!);
    expect(new Set(keyedIds).size).toBe(KEYED);
    const accepted = [...keyedIds, ...acceptedUnkeyed];

    // Process with two consumers, one of which is SIGKILLed every second for eight seconds.
    const env = serviceEnv(stack, {
      AWS_ENDPOINT_URL: workerProxy.url,
      WORKER_METRICS_PORT: "0",
      CONTENT_ENGINE_VISIBILITY_TIMEOUT: "2",
      CONTENT_ENGINE_MAX_RECEIVE_COUNT: "2",
      CONTENT_ENGINE_WORKER_CONCURRENCY: "4",
      LOG_LEVEL: "warn",
    });
    const consumers = [spawnService("services/worker/src/consumer-main.ts", env)];
    consumers.push(spawnService("services/worker/src/consumer-main.ts", env));
    let kills = 0;
    const killer = setInterval(() => {
      const victim = Math.floor(rand() * consumers.length);
      consumers[victim]!.child.kill("SIGKILL");
      consumers[victim] = spawnService("services/worker/src/consumer-main.ts", env);
      if (++kills >= 8) clearInterval(killer);
    }, 1000);

    const store = new JobStore(stack.s3, stack.config.bucket);
    const uploads = async () =>
      (await listKeys(stack.s3, stack.config.bucket, "uploads/acme/")).map((k) => k.split("/").pop()!);
    try {
      // Bounded: every accepted job, and every upload at all, reaches a final state.
      await waitFor(
        async () => {
          if (kills < 8) return false;
          const all = [...new Set([...accepted, ...(await uploads())])];
          const records = await Promise.all(all.map((id) => store.get("acme", id)));
          return records.every((r) => r?.status === "succeeded" || r?.status === "failed");
        },
        90_000,
        "every job to be final",
      );
    } finally {
      clearInterval(killer);
      for (const c of consumers) c.child.kill("SIGKILL");
    }

    const finals = await Promise.all(accepted.map((id) => store.get("acme", id)));
    for (const record of finals) {
      expect(["succeeded", "failed"]).toContain(record?.status);
      if (record?.status === "failed") expect(record.error?.message).toBeTruthy();
    }
    // No orphan: every upload left in the bucket has its final record.
    const statuses = new Set(
      (await listKeys(stack.s3, stack.config.bucket, "jobs/acme/")).map((k) =>
        k.split("/").pop()!.replace(".json", ""),
      ),
    );
    const orphans = (await uploads()).filter((id) => !statuses.has(id));
    expect(orphans).toEqual([]);
    // No duplicate: one upload per key at most, however many retries (unkeyed requests were sent once).
    const all = await uploads();
    expect(all).toEqual(expect.arrayContaining(accepted));
    expect(all.length).toBeLessThanOrEqual(KEYED + UNKEYED);
    process.stdout.write(
      `chaos: ${attempts.total} keyed attempts (${attempts.unavailable} answered 503/dropped), ${UNKEYED - acceptedUnkeyed.length} of ${UNKEYED} unkeyed refused, ${all.length} uploads, ${accepted.length} jobs accepted, ${kills} consumer kills, ${finals.filter((r) => r?.status === "succeeded").length} succeeded, ${finals.filter((r) => r?.status === "failed").length} failed\n`,
    );
  }, 180_000);
});
