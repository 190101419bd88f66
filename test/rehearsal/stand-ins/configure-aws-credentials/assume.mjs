// configure-aws-credentials stand-in: STS AssumeRole against moto, credentials exported for later steps.
// Plain fetch (no SDK): the stand-in runs from act's copy of this folder, outside any node_modules.
import { appendFileSync } from "node:fs";

const { ROLE: role, REGION: region, AWS_ENDPOINT_URL: endpoint, GITHUB_ENV: envFile } = process.env;
if (!role || !/^arn:aws:iam::\d{12}:role\/.+/.test(role)) {
  console.log(`::error::role-to-assume "${role ?? ""}" is not a role ARN`);
  process.exit(1);
}
if (!region) {
  console.log("::error::aws-region is required");
  process.exit(1);
}
const body = new URLSearchParams({
  Action: "AssumeRole",
  Version: "2011-06-15",
  RoleArn: role,
  RoleSessionName: `rehearsal-${process.env.GITHUB_RUN_ID ?? "run"}`,
  DurationSeconds: "3600",
});
const response = await fetch(endpoint, {
  method: "POST",
  headers: {
    "content-type": "application/x-www-form-urlencoded",
    // moto reads the caller from the credential scope; it does not check signatures.
    authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/sts/aws4_request, SignedHeaders=host, Signature=0`,
  },
  body,
});
const xml = await response.text();
const pick = (tag) => xml.match(new RegExp(`<${tag}>([^<]+)</${tag}>`))?.[1];
const [key, secret, token] = [pick("AccessKeyId"), pick("SecretAccessKey"), pick("SessionToken")];
if (!response.ok || !key || !secret || !token) {
  console.log(`::error::AssumeRole ${role} failed (${response.status}): ${xml.slice(0, 300)}`);
  process.exit(1);
}
for (const value of [secret, token]) console.log(`::add-mask::${value}`);
appendFileSync(
  envFile,
  [
    `AWS_ACCESS_KEY_ID=${key}`,
    `AWS_SECRET_ACCESS_KEY=${secret}`,
    `AWS_SESSION_TOKEN=${token}`,
    `AWS_REGION=${region}`,
    `AWS_DEFAULT_REGION=${region}`,
    "",
  ].join("\n"),
);
console.log(`assumed ${role}`);
