// ECR login through GetAuthorizationToken: the password is masked before anything can print it.
import {
  type ECRClient,
  GetAuthorizationTokenCommand,
  type GetAuthorizationTokenCommandOutput,
} from "@aws-sdk/client-ecr";
import { DeliveryError, explainAwsError } from "./errors.ts";
import type { Reporter } from "./reporter.ts";

export interface RegistryLogin {
  /** Registry host, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com */
  registry: string;
  username: string;
  password: string;
  expiresAt?: Date;
}

export async function ecrLogin(
  ecr: ECRClient,
  reporter: Reporter,
  options: { registryIds?: string[]; now?: () => number } = {},
): Promise<RegistryLogin> {
  let response: GetAuthorizationTokenCommandOutput;
  try {
    response = await ecr.send(
      new GetAuthorizationTokenCommand(options.registryIds ? { registryIds: options.registryIds } : {}),
    );
  } catch (error) {
    throw explainAwsError(error);
  }
  const data = response.authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) {
    throw new DeliveryError(
      "ECR returned no authorization token: check the role may call ecr:GetAuthorizationToken",
    );
  }
  const decoded = Buffer.from(data.authorizationToken, "base64").toString("utf8");
  const separator = decoded.indexOf(":");
  const password = separator >= 0 ? decoded.slice(separator + 1) : "";
  // Mask first: the raw token and the password must never reach a log line.
  reporter.secret(data.authorizationToken);
  if (password) reporter.secret(password);
  if (separator < 0 || !password) {
    throw new DeliveryError("ECR authorization token is malformed (expected base64 of user:password)");
  }
  const now = options.now?.() ?? Date.now();
  if (data.expiresAt && data.expiresAt.getTime() <= now) {
    throw new DeliveryError(
      `ECR authorization token expired at ${data.expiresAt.toISOString()}: request a new one (re-run the job)`,
    );
  }
  return {
    registry: new URL(
      data.proxyEndpoint.includes("://") ? data.proxyEndpoint : `https://${data.proxyEndpoint}`,
    ).host,
    username: decoded.slice(0, separator),
    password,
    expiresAt: data.expiresAt,
  };
}
