# One home for the least-privilege policies of the two workloads; ECS, Lambda and EKS roles attach these.
# Key layout: uploads/<tenant>/<jobId>/<file>, jobs/<tenant>/<jobId>.json, results/<tenant>/<jobId>.json.

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "WriteUploadsAndJobStatus"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.bucket_arn}/uploads/*", "${var.bucket_arn}/jobs/*"]
  }

  statement {
    sid       = "ReadJobStatusAndResults"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arn}/jobs/*", "${var.bucket_arn}/results/*"]
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
    sid       = "WriteResultsAndJobStatus"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arn}/jobs/*", "${var.bucket_arn}/results/*"]
  }

  dynamic "statement" {
    for_each = var.bedrock_model_arn == null ? [] : [var.bedrock_model_arn]

    content {
      sid       = "InvokeConfiguredModel"
      actions   = ["bedrock:InvokeModel"]
      resources = [statement.value]
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
}
