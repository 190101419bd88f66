import { describe, expect, it } from "vitest";
import {
  idempotentJobId,
  jobIdFloor,
  jobIdSchema,
  jobKeys,
  keys,
  newJobId,
  recordFromUpload,
  uploadMetadata,
} from "../src/jobs.ts";

describe("job ids", () => {
  it("are valid UUIDs that sort by creation time, so a sweep can list one time window", () => {
    const ids = [0, 1, 2, 1000, 86_400_000].map((offset) => newJobId(Date.UTC(2026, 10, 30) + offset));
    for (const id of ids) expect(jobIdSchema.safeParse(id).success, id).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    const t = Date.UTC(2026, 10, 30, 12);
    expect(jobIdFloor(t) < newJobId(t)).toBe(true);
    expect(newJobId(t) < jobIdFloor(t + 1)).toBe(true);
  });

  it("derive the same id from the same tenant, Idempotency-Key and window, and another id from any other", () => {
    const window = Date.UTC(2026, 10, 30);
    const id = idempotentJobId("acme", "order-1", window);
    expect(jobIdSchema.safeParse(id).success).toBe(true);
    expect(idempotentJobId("acme", "order-1", window)).toBe(id);
    expect(idempotentJobId("globex", "order-1", window)).not.toBe(id);
    expect(idempotentJobId("acme", "order-2", window)).not.toBe(id);
    expect(idempotentJobId("acme", "order-1", window + 86_400_000)).not.toBe(id);
    // Keyed ids carry their window's start: between the floors of that instant and the next.
    expect(jobIdFloor(window) < id && id < jobIdFloor(window + 1)).toBe(true);
  });
});

describe("job keys", () => {
  it("are today's keys without a prefix, and every key and listing prefix starts with the prefix given", () => {
    const id = "019ae000-0000-7000-8000-000000000000";
    expect(keys).toMatchObject({ prefix: "", uploads: "uploads/" });
    expect([
      keys.upload("acme", id),
      keys.status("acme", id),
      keys.uploadsOf("acme"),
      keys.statusesOf("acme"),
    ]).toEqual([`uploads/acme/${id}`, `jobs/acme/${id}.json`, "uploads/acme/", "jobs/acme/"]);
    const preview = jobKeys("previews/pr-12/");
    expect([
      preview.upload("acme", id),
      preview.status("acme", id),
      preview.uploads,
      preview.uploadsOf("acme"),
      preview.statusesOf("acme"),
    ]).toEqual([
      `previews/pr-12/uploads/acme/${id}`,
      `previews/pr-12/jobs/acme/${id}.json`,
      "previews/pr-12/uploads/",
      "previews/pr-12/uploads/acme/",
      "previews/pr-12/jobs/acme/",
    ]);
  });
});

describe("the job record on the upload's metadata", () => {
  it("round-trips, with a filename S3 metadata could not carry raw", () => {
    const createdAt = "2026-11-30T08:00:00.000Z";
    const metadata = uploadMetadata({
      filename: "Résumé 2026.md",
      createdAt,
      requestId: "r-1",
      tasks: ["summary"],
    });
    for (const value of Object.values(metadata)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    const jobId = newJobId();
    expect(
      recordFromUpload(
        "acme",
        jobId,
        { Metadata: metadata, ContentType: "text/markdown", ContentLength: 42 },
        keys.upload("acme", jobId),
      ),
    ).toEqual({
      jobId,
      tenant: "acme",
      status: "queued",
      createdAt,
      updatedAt: createdAt,
      input: {
        filename: "Résumé 2026.md",
        contentType: "text/markdown",
        size: 42,
        key: `uploads/acme/${jobId}`,
      },
      tasks: ["summary"],
      requestId: "r-1",
      attempts: 0,
    });
  });

  it("is not a job when the object's metadata is not ours", () => {
    expect(
      recordFromUpload("acme", newJobId(), { Metadata: {}, ContentType: "text/plain" }, "uploads/acme/x"),
    ).toBeUndefined();
    expect(
      recordFromUpload(
        "acme",
        newJobId(),
        {
          Metadata: { "job-filename": "%E0%A4%A", "job-created-at": "2026-11-30T08:00:00.000Z" },
          ContentType: "text/plain",
        },
        "uploads/acme/x",
      ),
    ).toBeUndefined();
  });
});
