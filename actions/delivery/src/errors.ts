// Bad input found before any mutating call. The message is one line saying what to fix.
export class DeliveryError extends Error {
  override name = "DeliveryError";
}

/** Turns SDK credential failures into a sentence a user can act on; other errors pass through. */
export function explainAwsError(error: unknown): unknown {
  const err = error as { name?: string; message?: string };
  const name = err?.name ?? "";
  const message = err?.message ?? "";
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
    return new DeliveryError(
      "AWS credentials are missing: assume the deploy role with aws-actions/configure-aws-credentials (OIDC) or set AWS_PROFILE locally",
    );
  }
  if (
    /ExpiredToken|RequestExpired|TokenRefreshRequired/.test(name) ||
    /security token.*expired/i.test(message)
  ) {
    return new DeliveryError(`AWS credentials have expired (${name}): assume the deploy role again`);
  }
  return error;
}
