import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  type FinalJob,
  finalJobSchema,
  type JobKeys,
  type JobRecord,
  type JobResult,
  jobIdFloor,
  jobKeys,
  recordFromUpload,
} from "./jobs.ts";

/** What `finish` did: wrote the final record, or found one already there (the first one stays). */
export type FinishOutcome = "written" | "exists";

/** An upload that has no final record yet (what a sweep looks at). */
export interface PendingUpload {
  tenant: string;
  jobId: string;
  lastModified: Date;
}

/**
 * Job state as objects next to the upload, in the same bucket: no second store to provision, tenant
 * isolation by key prefix, and each role's IAM policy names the prefixes it needs. See `jobKeys`.
 *
 * Every key it reads, writes, lists or deletes is under its environment's key prefix
 * (CONTENT_ENGINE_KEY_PREFIX; "" = the bucket's root), so environments sharing a bucket never meet.
 */
export class JobStore {
  private readonly s3: S3Client;
  readonly bucket: string;
  /** The keys of this store's jobs; the API names uploads, and the worker checks messages, by them. */
  readonly keys: JobKeys;

  constructor(s3: S3Client, bucket: string, keyPrefix = "") {
    this.s3 = s3;
    this.bucket = bucket;
    this.keys = jobKeys(keyPrefix);
  }

  /** The job as a client sees it: its final record, else the `queued` record its upload carries. */
  async get(tenant: string, jobId: string): Promise<JobRecord | undefined> {
    const final = await this.getFinal(tenant, jobId);
    if (final) {
      const { result: _result, ...record } = final;
      return record;
    }
    return this.getQueued(tenant, jobId);
  }

  /** The record its upload's metadata carries, or undefined when there is no upload. */
  async getQueued(tenant: string, jobId: string): Promise<JobRecord | undefined> {
    const key = this.keys.upload(tenant, jobId);
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return recordFromUpload(tenant, jobId, head, key);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async getFinal(tenant: string, jobId: string): Promise<FinalJob | undefined> {
    try {
      const out = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keys.status(tenant, jobId) }),
      );
      return finalJobSchema.parse(JSON.parse(await out.Body!.transformToString("utf8")));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async getResult(tenant: string, jobId: string): Promise<JobResult | undefined> {
    return (await this.getFinal(tenant, jobId))?.result;
  }

  /**
   * Writes the final record once: `If-None-Match: *` makes S3 refuse a second one (412), so a
   * duplicate delivery never replaces the first result. (The fauxqs emulator ignores the header on
   * PutObject; callers that can meet a finished job — redeliveries, sweeps — read first.)
   */
  async finish(final: FinalJob): Promise<FinishOutcome> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.keys.status(final.tenant, final.jobId),
          Body: JSON.stringify(final),
          ContentType: "application/json",
          IfNoneMatch: "*",
        }),
      );
      return "written";
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === "PreconditionFailed" || e.$metadata?.httpStatusCode === 412) return "exists";
      // A concurrent conditional write of the same key (S3 answers 409): the other one stays.
      if (e.name === "ConditionalRequestConflict") return "exists";
      throw error;
    }
  }

  /** Removes a job's upload (an ingest that could not be completed). */
  async deleteUpload(tenant: string, jobId: string): Promise<void> {
    await this.s3.send(
      new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keys.upload(tenant, jobId) }),
    );
  }

  /**
   * Uploads whose ids fall in the given time windows (ids are time-ordered) and that have no final
   * record: two listings per tenant and window, no request per job.
   */
  async listPending(windows: ReadonlyArray<{ from: Date; to: Date }>): Promise<PendingUpload[]> {
    const keys = this.keys;
    const tenants = await this.listPrefixes(keys.uploads);
    const pending = new Map<string, PendingUpload>();
    for (const tenant of tenants) {
      for (const { from, to } of windows) {
        const range = (prefix: string) =>
          this.listKeys(
            prefix,
            `${prefix}${jobIdFloor(from.getTime())}`,
            `${prefix}${jobIdFloor(to.getTime() + 1)}`,
          );
        const [uploads, finals] = await Promise.all([
          range(keys.uploadsOf(tenant)),
          range(keys.statusesOf(tenant)),
        ]);
        const finished = new Set(
          finals.map((o) => o.key.slice(keys.statusesOf(tenant).length, -".json".length)),
        );
        for (const upload of uploads) {
          const jobId = upload.key.slice(keys.uploadsOf(tenant).length);
          if (!finished.has(jobId))
            pending.set(upload.key, { tenant, jobId, lastModified: upload.lastModified });
        }
      }
    }
    return [...pending.values()];
  }

  private async listPrefixes(prefix: string): Promise<string[]> {
    const found: string[] = [];
    const pages = paginateListObjectsV2(
      { client: this.s3 },
      { Bucket: this.bucket, Prefix: prefix, Delimiter: "/" },
    );
    for await (const page of pages) {
      for (const p of page.CommonPrefixes ?? []) found.push(p.Prefix!.slice(prefix.length, -1));
    }
    return found;
  }

  /** Keys under `prefix` after `startAfter` and before `end`. */
  private async listKeys(
    prefix: string,
    startAfter: string,
    end: string,
  ): Promise<Array<{ key: string; lastModified: Date }>> {
    const found: Array<{ key: string; lastModified: Date }> = [];
    const pages = paginateListObjectsV2(
      { client: this.s3 },
      { Bucket: this.bucket, Prefix: prefix, StartAfter: startAfter },
    );
    for await (const page of pages) {
      for (const o of page.Contents ?? []) {
        if (o.Key! >= end) return found;
        found.push({ key: o.Key!, lastModified: o.LastModified ?? new Date(0) });
      }
    }
    return found;
  }
}

export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata?.httpStatusCode === 404;
}
