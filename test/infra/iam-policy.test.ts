// The IAM evaluator and the renderer the least-privilege tests stand on: decisions as AWS documents
// them, and Terraform's own arithmetic for what a policy document renders to.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { modulesRoot } from "../support/hcl.ts";
import {
  type AuthorizationRequest,
  arnMatch,
  evaluate,
  type PolicyDocument,
  type PolicyStatement,
  UnsupportedPolicyError,
  wildcardMatch,
} from "../support/iam-policy.ts";
import { renderPolicyDocuments } from "../support/iam-render.ts";

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement });
const decide = (statements: PolicyStatement[], request: AuthorizationRequest) =>
  evaluate([doc(...statements)], request).decision;
const BUCKET = "arn:aws:s3:::content";

describe("the IAM evaluator", () => {
  it("allows what a statement grants, and denies everything else implicitly", () => {
    const allow: PolicyStatement = { Effect: "Allow", Action: "s3:GetObject", Resource: `${BUCKET}/jobs/*` };
    expect(decide([allow], { action: "s3:GetObject", resource: `${BUCKET}/jobs/acme/1.json` })).toBe("allow");
    expect(decide([allow], { action: "s3:PutObject", resource: `${BUCKET}/jobs/acme/1.json` })).toBe(
      "implicit-deny",
    );
    expect(decide([allow], { action: "s3:GetObject", resource: `${BUCKET}/uploads/acme/1` })).toBe(
      "implicit-deny",
    );
  });

  it("lets an explicit Deny win over any Allow, and names both", () => {
    const result = evaluate(
      [
        doc(
          { Sid: "All", Effect: "Allow", Action: "s3:*", Resource: "*" },
          { Sid: "NoDeletes", Effect: "Deny", Action: "s3:DeleteObject", Resource: "*" },
        ),
      ],
      { action: "s3:DeleteObject", resource: `${BUCKET}/x` },
    );
    expect(result).toEqual({ decision: "explicit-deny", allowedBy: ["All"], deniedBy: ["NoDeletes"] });
  });

  it("matches actions case-insensitively with wildcards, and NotAction as everything but", () => {
    expect(
      decide([{ Effect: "Allow", Action: "ECS:describe*", Resource: "*" }], {
        action: "ecs:DescribeServices",
        resource: "*",
      }),
    ).toBe("allow");
    const notAction: PolicyStatement = { Effect: "Allow", NotAction: "iam:*", Resource: "*" };
    expect(decide([notAction], { action: "ecs:UpdateService", resource: "*" })).toBe("allow");
    expect(decide([notAction], { action: "iam:PassRole", resource: "*" })).toBe("implicit-deny");
  });

  it("matches ARNs part by part: a wildcard never spans the colons between parts", () => {
    expect(
      arnMatch(
        "arn:aws:lambda:eu-west-1:111111111111:function:w:*",
        "arn:aws:lambda:eu-west-1:111111111111:function:w:7",
      ),
    ).toBe(true);
    expect(
      arnMatch(
        "arn:aws:lambda:eu-west-1:111111111111:function:w",
        "arn:aws:lambda:eu-west-1:111111111111:function:w:7",
      ),
    ).toBe(false);
    expect(arnMatch("arn:aws:iam::*:role/x", "arn:aws:iam::111111111111:role/x")).toBe(true);
    expect(arnMatch("arn:aws:iam::1*:role/x", "arn:aws:iam::111111111111:role/x")).toBe(true);
    expect(arnMatch("arn:aws:s3:::b*", "arn:aws:s3:::b/any/key")).toBe(true);
    expect(wildcardMatch("uploads/?", "uploads/ab")).toBe(false);
    // A resource of "*" (an action without resource-level permissions) is matched only by "*".
    expect(
      decide(
        [{ Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "arn:aws:ecr:*:*:repository/*" }],
        { action: "ecr:GetAuthorizationToken", resource: "*" },
      ),
    ).toBe("implicit-deny");
  });

  it("ANDs the operators and keys of a Condition and ORs the values of a key", () => {
    const trust: PolicyStatement = {
      Effect: "Allow",
      Action: "sts:AssumeRoleWithWebIdentity",
      Principal: { Federated: "arn:aws:iam::1:oidc-provider/gh" },
      Condition: { StringEquals: { "gh:aud": "sts", "gh:sub": ["a", "b"] } },
    };
    const request = (sub: string, aud = "sts"): AuthorizationRequest => ({
      action: "sts:AssumeRoleWithWebIdentity",
      resource: "arn:aws:iam::1:role/r",
      principal: { type: "Federated", id: "arn:aws:iam::1:oidc-provider/gh" },
      context: { "gh:sub": sub, "gh:aud": aud },
    });
    expect(decide([trust], request("b"))).toBe("allow");
    expect(decide([trust], request("c"))).toBe("implicit-deny");
    expect(decide([trust], request("a", "other"))).toBe("implicit-deny");
    expect(
      decide([trust], {
        ...request("a"),
        principal: { type: "Federated", id: "arn:aws:iam::2:oidc-provider/gh" },
      }),
    ).toBe("implicit-deny");
  });

  it("treats a missing key as AWS does: fails, except negated operators, IfExists and Null", () => {
    const on = (Condition: PolicyStatement["Condition"]) => (context: AuthorizationRequest["context"]) =>
      decide([{ Effect: "Allow", Action: "s3:ListBucket", Resource: BUCKET, Condition }], {
        action: "s3:ListBucket",
        resource: BUCKET,
        context,
      });
    expect(on({ StringLike: { "s3:prefix": "jobs/*" } })({})).toBe("implicit-deny");
    expect(on({ StringLike: { "s3:prefix": "jobs/*" } })({ "s3:prefix": "jobs/acme/" })).toBe("allow");
    expect(on({ StringNotEquals: { "s3:prefix": "secret/" } })({})).toBe("allow");
    expect(on({ StringLikeIfExists: { "s3:prefix": "jobs/*" } })({})).toBe("allow");
    expect(on({ StringLikeIfExists: { "s3:prefix": "jobs/*" } })({ "s3:prefix": "uploads/" })).toBe(
      "implicit-deny",
    );
    expect(on({ Null: { "s3:prefix": "true" } })({})).toBe("allow");
    expect(on({ Null: { "s3:prefix": "false" } })({})).toBe("implicit-deny");
    expect(on({ Bool: { "aws:SecureTransport": "false" } })({ "aws:SecureTransport": "false" })).toBe(
      "allow",
    );
    expect(
      on({ ArnLike: { "lambda:FunctionArn": "arn:aws:lambda:*:1:function:w:*" } })({
        "lambda:FunctionArn": "arn:aws:lambda:eu-west-1:1:function:w:live",
      }),
    ).toBe("allow");
  });

  it("needs ForAnyValue or ForAllValues for a multivalued key, and applies them", () => {
    const tags = (Condition: PolicyStatement["Condition"], value: string[]) =>
      decide([{ Effect: "Allow", Action: "x:Y", Resource: "*", Condition }], {
        action: "x:Y",
        resource: "*",
        context: { "aws:TagKeys": value },
      });
    expect(tags({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["a"] } }, ["a", "b"])).toBe("allow");
    expect(tags({ "ForAllValues:StringEquals": { "aws:TagKeys": ["a"] } }, ["a", "b"])).toBe("implicit-deny");
    expect(tags({ "ForAllValues:StringEquals": { "aws:TagKeys": ["a", "b"] } }, ["a", "b"])).toBe("allow");
    expect(() => tags({ StringEquals: { "aws:TagKeys": "a" } }, ["a", "b"])).toThrow(
      /needs ForAnyValue or ForAllValues/,
    );
  });

  it("refuses to decide what it does not evaluate, naming the statement, instead of skipping it", () => {
    const request = {
      action: "s3:GetObject",
      resource: `${BUCKET}/x`,
      context: { "aws:SourceIp": "10.0.0.1" },
    };
    expect(() =>
      decide(
        [
          {
            Sid: "Office",
            Effect: "Allow",
            Action: "s3:GetObject",
            Resource: "*",
            Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } },
          },
        ],
        request,
      ),
    ).toThrow(new UnsupportedPolicyError("Office: condition operator IpAddress is not evaluated"));
    expect(() =>
      decide(
        [{ Sid: "Own", Effect: "Allow", Action: "s3:GetObject", Resource: `${BUCKET}/\${aws:username}/*` }],
        request,
      ),
    ).toThrow(/Own: policy variable in "arn:aws:s3:::content\/\$\{aws:username\}\/\*" is not evaluated/);
  });

  it("answers an action-only question (no resource) without the Resource and Condition elements", () => {
    const scoped: PolicyStatement = {
      Effect: "Allow",
      Action: "ecs:UpdateService",
      Resource: "arn:aws:ecs:r:1:service/c/s",
      Condition: { ArnEquals: { "ecs:cluster": "x" } },
    };
    expect(decide([scoped], { action: "ecs:UpdateService" })).toBe("allow");
    expect(decide([scoped], { action: "ecs:RegisterTaskDefinition" })).toBe("implicit-deny");
  });
});

describe("rendering aws_iam_policy_document with terraform", () => {
  it("renders static and dynamic statements with the inputs' values, as IAM JSON", async () => {
    const docs = await renderPolicyDocuments(join(modulesRoot, "workload-iam"), {
      variables: {
        bucket_arn: BUCKET,
        queue_arn: "arn:aws:sqs:eu-west-1:111111111111:jobs",
        dlq_arn: "arn:aws:sqs:eu-west-1:111111111111:jobs-dlq",
      },
      references: {},
    });
    const worker = docs.worker!.Statement;
    expect(worker.find((s) => s.Sid === "WriteFinalJobRecords")).toEqual({
      Sid: "WriteFinalJobRecords",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: `${BUCKET}/jobs/*`,
    });
    expect(worker.find((s) => s.Sid === "ListUploadsAndJobRecords")?.Condition).toEqual({
      StringLike: { "s3:prefix": ["uploads/*", "jobs/*"] },
    });
    // dynamic: the DLQ statement exists with a dlq_arn, the Bedrock one not without a model.
    expect(worker.find((s) => s.Sid === "PeekDeadLetters")?.Resource).toBe(
      "arn:aws:sqs:eu-west-1:111111111111:jobs-dlq",
    );
    expect(worker.some((s) => s.Sid === "InvokeConfiguredModel")).toBe(false);
  });

  it("runs the module's variable validations on the inputs, and says which", async () => {
    await expect(
      renderPolicyDocuments(join(modulesRoot, "workload-iam"), {
        variables: { bucket_arn: "content", queue_arn: "arn:aws:sqs:eu-west-1:111111111111:jobs" },
        references: {},
      }),
    ).rejects.toThrow(/bucket_arn must be an S3 bucket ARN/);
  });

  it("names a resource or data source the caller gave no value for", async () => {
    await expect(
      renderPolicyDocuments(join(modulesRoot, "github-oidc"), {
        variables: {
          name: "content-engine-dev-deploy",
          github_repository: "acme/content-engine",
          github_environments: ["dev"],
          ecr_repository_arn: "arn:aws:ecr:eu-west-1:111111111111:repository/content-engine",
          alarm_name_prefix: "content-engine-dev-",
        },
        references: {},
      }),
    ).rejects.toThrow(/data\.aws_caller_identity\.current/);
  });

  it("merges source_policy_documents first, a statement of the same Sid replacing the source's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "iam-render-"));
    writeFileSync(join(dir, "variables.tf"), 'variable "bucket" {\n  type = string\n}\n');
    writeFileSync(
      join(dir, "main.tf"),
      `data "aws_iam_policy_document" "base" {
  statement {
    sid       = "Read"
    actions   = ["s3:GetObject"]
    resources = ["\${var.bucket}/*"]
  }
  statement {
    sid       = "List"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket]
  }
}

data "aws_iam_policy_document" "more" {
  source_policy_documents = [data.aws_iam_policy_document.base.json]

  statement {
    sid       = "Read"
    actions   = ["s3:GetObject"]
    resources = ["\${var.bucket}/public/*"]
  }
}
`,
    );
    const docs = await renderPolicyDocuments(dir, { variables: { bucket: BUCKET }, references: {} });
    expect(docs.more!.Statement.map((s) => [s.Sid, s.Resource])).toEqual([
      ["List", BUCKET],
      ["Read", `${BUCKET}/public/*`],
    ]);
  });
});
