// The one home of AWS clients: region, credentials and the endpoint override (moto, emulators).
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";

export interface AwsOptions {
  region: string;
  /** Endpoint override for every client, e.g. http://127.0.0.1:5000 for moto. Default: AWS_ENDPOINT_URL or AWS. */
  endpoint?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  maxAttempts?: number;
}

interface ClientConfig {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  maxAttempts: number;
  forcePathStyle?: boolean;
}

/** `createClient(ECSClient, aws)`: every client is built here so the override applies everywhere. */
export function createClient<T>(Client: new (config: ClientConfig) => T, aws: AwsOptions): T {
  const endpoint = aws.endpoint ?? process.env.AWS_ENDPOINT_URL ?? undefined;
  return new Client({
    region: aws.region,
    maxAttempts: aws.maxAttempts ?? 4,
    ...(endpoint ? { endpoint } : {}),
    ...(aws.credentials ? { credentials: aws.credentials } : {}),
  });
}
