// configure-aws-credentials stand-in: the job's OIDC token as GitHub would issue it, decided against the
// role's Terraform trust policy as STS would, then STS AssumeRoleWithWebIdentity on moto.
// Plain fetch (no SDK): the stand-in runs from act's copy of this folder, outside any node_modules; the
// token and the decision come from the rehearsal's own modules (test/support), named by REHEARSAL_IAM.
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const env = process.env;
const { ROLE: role, REGION: region, AWS_ENDPOINT_URL: endpoint, GITHUB_ENV: envFile } = env;
const fail = (message) => {
  console.log(`::error::${message}`);
  process.exit(1);
};
if (!role || !/^arn:aws:iam::\d{12}:role\/.+/.test(role))
  fail(`role-to-assume "${role ?? ""}" is not a role ARN`);
if (!region) fail("aws-region is required");
if (!env.REHEARSAL_IAM)
  fail("REHEARSAL_IAM is not set: the stand-in decides trust like STS from the policies rehearse.ts renders");

const iam = JSON.parse(readFileSync(env.REHEARSAL_IAM, "utf8"));
const support = (file) => import(pathToFileURL(join(iam.support, file)).href);
const { evaluate } = await support("iam-policy.ts");
const { jobClaims, jobEnvironment, subjectOf, workflowFileNamed } = await support("iam-oidc-token.ts");

// The job, as GitHub knows it: its workflow file (by the runner's GITHUB_WORKFLOW), its environment.
const workflowsDir = join(env.GITHUB_WORKSPACE ?? ".", ".github", "workflows");
const files = Object.fromEntries(
  readdirSync(workflowsDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => [f, readFileSync(join(workflowsDir, f), "utf8")]),
);
let claims;
try {
  const workflowFile = workflowFileNamed(files, env.GITHUB_WORKFLOW ?? "");
  const matrix = env.JOB_MATRIX ? JSON.parse(env.JOB_MATRIX) : {};
  const environment = jobEnvironment(files[workflowFile], env.GITHUB_JOB ?? "", matrix ?? {});
  claims = jobClaims({
    repository: env.GITHUB_REPOSITORY ?? "",
    workflowFile,
    ref: env.GITHUB_REF ?? "",
    eventName: env.GITHUB_EVENT_NAME ?? "",
    environment,
  });
} catch (error) {
  fail(`could not build the job's OIDC token: ${error.message}`);
}
const token = {
  ...claims,
  iss: "https://token.actions.githubusercontent.com",
  aud: "sts.amazonaws.com",
  sub: subjectOf(claims, iam.claimKeys),
};

// STS: the role's trust policy decides; the federated principal is the account's GitHub OIDC provider.
const trusted = iam.roles[role];
if (!trusted) fail(`Could not assume role with OIDC: ${role} is not a role Terraform creates`);
const account = role.split(":")[4];
const verdict = evaluate([trusted.trust], {
  action: "sts:AssumeRoleWithWebIdentity",
  resource: role,
  principal: {
    type: "Federated",
    id: `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com`,
  },
  context: {
    "token.actions.githubusercontent.com:sub": token.sub,
    "token.actions.githubusercontent.com:aud": token.aud,
  },
});
if (verdict.decision !== "allow")
  fail(
    `Could not assume role with OIDC: Not authorized to perform sts:AssumeRoleWithWebIdentity on ${role} (sub ${token.sub})`,
  );

// An unsigned JWT carries the claims to the wire, where the IAM record check decides them again.
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const body = new URLSearchParams({
  Action: "AssumeRoleWithWebIdentity",
  Version: "2011-06-15",
  RoleArn: role,
  RoleSessionName: `GitHubActions-${env.GITHUB_RUN_ID ?? "run"}`,
  WebIdentityToken: `${b64({ alg: "none", typ: "JWT" })}.${b64(token)}.`,
  DurationSeconds: "3600",
});
const response = await fetch(endpoint, {
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body,
});
const xml = await response.text();
const pick = (tag) => xml.match(new RegExp(`<${tag}>([^<]+)</${tag}>`))?.[1];
const [key, secret, sessionToken] = [pick("AccessKeyId"), pick("SecretAccessKey"), pick("SessionToken")];
if (!response.ok || !key || !secret || !sessionToken)
  fail(`AssumeRoleWithWebIdentity ${role} failed (${response.status}): ${xml.slice(0, 300)}`);
for (const value of [secret, sessionToken]) console.log(`::add-mask::${value}`);
appendFileSync(
  envFile,
  [
    `AWS_ACCESS_KEY_ID=${key}`,
    `AWS_SECRET_ACCESS_KEY=${secret}`,
    `AWS_SESSION_TOKEN=${sessionToken}`,
    `AWS_REGION=${region}`,
    `AWS_DEFAULT_REGION=${region}`,
    "",
  ].join("\n"),
);
console.log(`assumed ${role} as ${token.sub}`);
