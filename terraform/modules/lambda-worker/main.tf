locals {
  alias_name = "live"
}

resource "aws_cloudwatch_log_group" "worker" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with service-owned keys; worker logs hold job ids and timings, never content.
  #checkov:skip=CKV_AWS_338:Retention is a per-environment cost decision (var.log_retention_days; prod keeps a year).
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "worker" {
  name               = "${var.name}-role"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "worker" {
  name   = "content-engine-worker"
  role   = aws_iam_role.worker.id
  policy = var.worker_policy_json
}

data "aws_iam_policy_document" "runtime" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.worker.arn}:*"]
  }

  # X-Ray segment upload has no resource-level permissions: AWS requires "*".
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "runtime" {
  name   = "logs-and-traces"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.runtime.json
}

resource "aws_lambda_function" "worker" {
  #checkov:skip=CKV_AWS_117:The worker only calls S3, SQS and Bedrock over IAM-signed TLS; a VPC attachment would add ENI permissions with Resource "*" and NAT cost without narrowing access.
  #checkov:skip=CKV_AWS_116:Failed messages dead-letter on the SQS queue (redrive policy); a function DLQ only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_173:Environment variables hold names and URLs only (no secrets); Lambda encrypts them at rest with the AWS managed key.
  #checkov:skip=CKV_AWS_272:Code arrives from our CI's bundled, digest-tracked artefact; AWS Signer profiles are outside this stack.
  function_name                  = var.name
  role                           = aws_iam_role.worker.arn
  runtime                        = "nodejs24.x"
  handler                        = "index.handler"
  architectures                  = ["x86_64"]
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  timeout                        = var.timeout_seconds
  memory_size                    = var.memory_mb
  reserved_concurrent_executions = var.reserved_concurrency
  publish                        = true

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.worker.name
  }

  lifecycle {
    # The deploy action uploads new code and publishes versions; Terraform only creates the first one.
    ignore_changes = [filename, source_code_hash, s3_bucket, s3_key, s3_object_version]
  }

  depends_on = [aws_iam_role_policy.runtime]

  tags = var.tags
}

resource "aws_lambda_alias" "live" {
  name             = local.alias_name
  function_name    = aws_lambda_function.worker.function_name
  function_version = aws_lambda_function.worker.version

  lifecycle {
    # The deploy action moves the alias (and its canary weights) to each new version.
    ignore_changes = [function_version, routing_config]
  }
}

resource "aws_lambda_event_source_mapping" "jobs" {
  event_source_arn                   = var.queue_arn
  function_name                      = aws_lambda_alias.live.arn
  batch_size                         = var.event_source.batch_size
  maximum_batching_window_in_seconds = var.event_source.maximum_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.event_source.maximum_concurrency
  }

  lifecycle {
    precondition {
      condition     = var.event_source.maximum_concurrency <= var.reserved_concurrency
      error_message = "event_source.maximum_concurrency must not exceed reserved_concurrency, or the queue drives invocations that Lambda throttles."
    }
  }

  depends_on = [aws_iam_role_policy.worker]
}

# No job left behind: the same function, on a schedule, marks dead-lettered jobs failed and
# re-drives uploads whose message was never sent (handler dispatches on the "Scheduled Event").
resource "aws_cloudwatch_event_rule" "recovery" {
  name                = "${var.name}-recovery"
  description         = "Runs the worker's recovery: dead-lettered jobs marked failed, stalled uploads re-driven."
  schedule_expression = var.recovery_schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "recovery" {
  rule = aws_cloudwatch_event_rule.recovery.name
  arn  = aws_lambda_alias.live.arn
}

resource "aws_lambda_permission" "recovery" {
  statement_id  = "AllowRecoverySchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.worker.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.recovery.arn
}
