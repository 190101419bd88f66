import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type JobRecord, type JobResult, jobRecordSchema, jobResultSchema, keys } from "./jobs.ts";

/**
 * Job status and results as JSON objects next to the upload, in the same bucket: no second store to
 * provision, and the worker's role only needs the `jobs/` and `results/` prefixes.
 */
export class JobStore {
  private readonly s3: S3Client;
  private readonly bucket: string;

  constructor(s3: S3Client, bucket: string) {
    this.s3 = s3;
    this.bucket = bucket;
  }

  async put(record: JobRecord): Promise<void> {
    await this.putJson(keys.status(record.tenant, record.jobId), record);
  }

  async get(tenant: string, jobId: string): Promise<JobRecord | undefined> {
    const body = await this.getJson(keys.status(tenant, jobId));
    return body === undefined ? undefined : jobRecordSchema.parse(body);
  }

  async update(record: JobRecord, change: Partial<JobRecord>, now = new Date()): Promise<JobRecord> {
    const next: JobRecord = { ...record, ...change, updatedAt: now.toISOString() };
    await this.put(next);
    return next;
  }

  async delete(tenant: string, jobId: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys.status(tenant, jobId) }));
  }

  async putResult(tenant: string, result: JobResult): Promise<void> {
    await this.putJson(keys.result(tenant, result.jobId), result);
  }

  async getResult(tenant: string, jobId: string): Promise<JobResult | undefined> {
    const body = await this.getJson(keys.result(tenant, jobId));
    return body === undefined ? undefined : jobResultSchema.parse(body);
  }

  private async putJson(key: string, value: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: "application/json",
      }),
    );
  }

  private async getJson(key: string): Promise<unknown> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return JSON.parse(await out.Body!.transformToString("utf8"));
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") return undefined;
      throw error;
    }
  }
}
