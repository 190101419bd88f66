import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";

export interface AwsClientOptions {
  region: string;
  /** Endpoint override: AWS when undefined, otherwise an emulator, moto or a private endpoint. */
  endpoint: string | undefined;
}

/**
 * The one place AWS clients are made. With an endpoint override S3 uses path-style addressing
 * (emulators do not resolve `<bucket>.host`) and SQS sends to the endpoint rather than to the host
 * inside the queue URL.
 */
export function createS3Client(options: AwsClientOptions): S3Client {
  return new S3Client({
    region: options.region,
    maxAttempts: 3,
    // No flexible checksums S3 does not require: a CRC32 of every upload cost 7 % of the API's CPU.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
  });
}

export function createSqsClient(options: AwsClientOptions): SQSClient {
  return new SQSClient({
    region: options.region,
    maxAttempts: 3,
    ...(options.endpoint ? { endpoint: options.endpoint, useQueueUrlAsEndpoint: false } : {}),
  });
}
