resource "aws_ecr_repository" "this" {
  name = var.name
  # Images are deployed by digest, and an immutable tag can never be re-pointed at other bytes.
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = var.tags
}

# An image is judged by the first rule that selects it. Whatever a deploy tagged deployed-… is
# selected by rule 1 and so never reaches rule 3's count: the digests environment files name, every
# rollback target and their signatures stay, however many builds follow (test/infra/ecr-lifecycle.test.ts
# replays 200 builds against this file).
resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy = templatefile("${path.module}/lifecycle-policy.json.tftpl", {
    keep_deployed_days   = var.keep_deployed_days
    untagged_expiry_days = var.untagged_expiry_days
    keep_tagged_images   = var.keep_tagged_images
  })
}

# The key build-push signs images and worker bundles with (cosign, awskms:///alias/…). Asymmetric:
# only Sign needs this account's IAM; every deploy verifies with the public key committed beside the
# environment files (output signing_public_key), so the environments promoted to never call KMS for it.
resource "aws_kms_key" "signing" {
  count = var.signing_key ? 1 : 0

  description              = "cosign signatures of ${var.name} images and worker bundles"
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "ECC_NIST_P256"
  deletion_window_in_days  = 30
  policy                   = data.aws_iam_policy_document.signing_key[0].json
  tags                     = var.tags
}

resource "aws_kms_alias" "signing" {
  count = var.signing_key ? 1 : 0

  name          = "alias/${replace(var.name, "/", "-")}-signing"
  target_key_id = aws_kms_key.signing[0].key_id
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The account's IAM decides who signs (the deploy role's SignImages statement); the key policy only
# delegates to it, as AWS's default key policy does.
data "aws_iam_policy_document" "signing_key" {
  #checkov:skip=CKV_AWS_109:Key policy: AWS requires Resource "*" (the key itself) and the account-root kms:* statement that delegates access to IAM.
  #checkov:skip=CKV_AWS_111:Key policy: AWS requires Resource "*" (the key itself) and the account-root kms:* statement that delegates access to IAM.
  #checkov:skip=CKV_AWS_356:Key policy: Resource "*" in a key policy means this key only.
  count = var.signing_key ? 1 : 0

  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

data "aws_kms_public_key" "signing" {
  count  = var.signing_key ? 1 : 0
  key_id = aws_kms_key.signing[0].arn
}

# One repository serves every environment: the accounts that deploy a promoted digest pull it from
# here. Pull only: nothing outside this account can push, re-tag or delete.
data "aws_iam_policy_document" "cross_account_pull" {
  count = length(var.pull_account_ids) > 0 ? 1 : 0

  statement {
    sid    = "PullFromEnvironmentAccounts"
    effect = "Allow"
    actions = [
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
      "ecr:BatchCheckLayerAvailability",
    ]

    principals {
      type        = "AWS"
      identifiers = [for id in var.pull_account_ids : "arn:aws:iam::${id}:root"]
    }
  }
}

resource "aws_ecr_repository_policy" "cross_account_pull" {
  count      = length(var.pull_account_ids) > 0 ? 1 : 0
  repository = aws_ecr_repository.this.name
  policy     = data.aws_iam_policy_document.cross_account_pull[0].json
}
