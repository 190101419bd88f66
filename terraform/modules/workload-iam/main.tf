# One home for the least-privilege policies of the two workloads; ECS, Lambda and EKS roles attach these.
# Key layout: uploads/<tenant>/<jobId> (the document; its metadata is the queued job record) and
# jobs/<tenant>/<jobId>.json (the final record with the result, written once by the worker).

locals {
  # Previews (var.previews): each one's jobs queue (<prefix><n>-jobs; the pattern does not reach the
  # -jobs-dlq queues), its DLQ, and its keys under <key_prefix>pr-<n>/ of the same bucket.
  preview_queue_arn = var.previews == null ? "" : "${join(":", slice(split(":", var.queue_arn), 0, 5))}:${var.previews.queue_name_prefix}"
  preview_keys      = var.previews == null ? "" : "${var.bucket_arn}/${var.previews.key_prefix}pr-*"
  previews          = var.previews == null ? [] : [var.previews]
}

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "WriteUploads"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.bucket_arn}/uploads/*"]
  }

  # HeadObject on uploads/ answers a queued job's status and finds an Idempotency-Key's first job.
  statement {
    sid       = "ReadUploadsAndJobRecords"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arn}/uploads/*", "${var.bucket_arn}/jobs/*"]
  }

  # HeadBucket (the readiness probe) is authorised by s3:ListBucket on the bucket itself.
  statement {
    sid       = "ReadinessHeadBucket"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
  }

  statement {
    sid       = "EnqueueJobs"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [var.queue_arn]
  }

  # The same for each preview's keys and queue (its API tasks run with this role).
  dynamic "statement" {
    for_each = local.previews

    content {
      sid       = "PreviewWriteUploads"
      actions   = ["s3:PutObject", "s3:DeleteObject"]
      resources = ["${local.preview_keys}/uploads/*"]
    }
  }

  dynamic "statement" {
    for_each = local.previews

    content {
      sid       = "PreviewReadUploadsAndJobRecords"
      actions   = ["s3:GetObject"]
      resources = ["${local.preview_keys}/uploads/*", "${local.preview_keys}/jobs/*"]
    }
  }

  dynamic "statement" {
    for_each = local.previews

    content {
      sid       = "PreviewEnqueueJobs"
      actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
      resources = ["${local.preview_queue_arn}*-jobs"]
    }
  }
}

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "ConsumeJobs"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [var.queue_arn]
  }

  statement {
    sid       = "ReadUploadsAndJobStatus"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arn}/uploads/*", "${var.bucket_arn}/jobs/*"]
  }

  statement {
    sid       = "WriteFinalJobRecords"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arn}/jobs/*"]
  }

  # The sweep lists recent uploads and final records to find stalled jobs, and re-drives them.
  statement {
    sid       = "ListUploadsAndJobRecords"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["uploads/*", "jobs/*"]
    }
  }

  statement {
    sid       = "RedriveStalledJobs"
    actions   = ["sqs:SendMessage"]
    resources = [var.queue_arn]
  }

  # The dead-letter handler peeks at the DLQ (the messages stay there) to mark dead-lettered jobs failed.
  dynamic "statement" {
    for_each = var.dlq_arn == null ? [] : [var.dlq_arn]

    content {
      sid       = "PeekDeadLetters"
      actions   = ["sqs:ReceiveMessage", "sqs:GetQueueAttributes"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.bedrock_model_arn == null ? [] : [var.bedrock_model_arn]

    content {
      sid       = "InvokeConfiguredModel"
      actions   = ["bedrock:InvokeModel"]
      resources = [statement.value]
    }
  }

  # The same for each preview's queue, DLQ and keys (its worker function runs with this role).
  dynamic "statement" {
    for_each = local.previews

    content {
      sid       = "PreviewConsumeAndRedriveJobs"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:SendMessage"]
      resources = ["${local.preview_queue_arn}*-jobs"]
    }
  }

  dynamic "statement" {
    for_each = var.dlq_arn == null ? [] : local.previews

    content {
      sid       = "PreviewPeekDeadLetters"
      actions   = ["sqs:ReceiveMessage", "sqs:GetQueueAttributes"]
      resources = ["${local.preview_queue_arn}*-jobs-dlq"]
    }
  }

  dynamic "statement" {
    for_each = local.previews

    content {
      sid       = "PreviewReadUploadsAndJobStatus"
      actions   = ["s3:GetObject"]
      resources = ["${local.preview_keys}/uploads/*", "${local.preview_keys}/jobs/*"]
    }
  }

  dynamic "statement" {
    for_each = local.previews

    content {
      sid       = "PreviewWriteFinalJobRecords"
      actions   = ["s3:PutObject"]
      resources = ["${local.preview_keys}/jobs/*"]
    }
  }

  dynamic "statement" {
    for_each = local.previews

    content {
      sid       = "PreviewListUploadsAndJobRecords"
      actions   = ["s3:ListBucket"]
      resources = [var.bucket_arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${statement.value.key_prefix}pr-*/uploads/*", "${statement.value.key_prefix}pr-*/jobs/*"]
      }
    }
  }
}

# KEDA only reads the queue depth to scale the worker.
data "aws_iam_policy_document" "queue_depth_reader" {
  statement {
    sid       = "ReadQueueDepth"
    actions   = ["sqs:GetQueueAttributes"]
    resources = [var.queue_arn]
  }

  dynamic "statement" {
    for_each = local.previews

    content {
      sid       = "PreviewReadQueueDepth"
      actions   = ["sqs:GetQueueAttributes"]
      resources = ["${local.preview_queue_arn}*-jobs"]
    }
  }
}
