# The metrics path of one environment: an Amazon Managed Service for Prometheus workspace (the store
# Grafana reads) and what a collector needs to write to it: the agent configuration and the
# least-privilege remote-write policy. On ECS the collector is a Prometheus agent sidecar in the API
# task (modules/ecs-service `metrics_collector`); on EKS the cluster's Prometheus remote-writes here
# what the chart's ServiceMonitors scrape.
data "aws_region" "current" {}

resource "aws_cloudwatch_log_group" "workspace" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with service-owned keys; these logs hold remote-write and rule errors, never payloads.
  #checkov:skip=CKV_AWS_338:Retention is a per-environment cost decision (var.log_retention_days).
  name              = "/aws/prometheus/${var.name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_prometheus_workspace" "this" {
  alias       = var.name
  kms_key_arn = var.kms_key_arn

  logging_configuration {
    log_group_arn = "${aws_cloudwatch_log_group.workspace.arn}:*"
  }

  tags = var.tags
}

locals {
  remote_write_url = "${aws_prometheus_workspace.this.prometheus_endpoint}api/v1/remote_write"

  # ECS: the sidecar scrapes the API at localhost; the Lambda worker publishes EMF, not /metrics.
  agent_config = templatefile("${path.module}/prometheus-agent.yml.tftpl", {
    environment         = var.environment
    region              = data.aws_region.current.region
    remote_write_url    = local.remote_write_url
    scrape_interval     = "${var.scrape_interval_seconds}s"
    scrape_timeout      = "${min(10, var.scrape_interval_seconds)}s"
    batch_send_deadline = "5s"
    api_targets         = jsonencode(["localhost:${var.api_port}"])
    worker_targets      = jsonencode([])
  })
}

data "aws_iam_policy_document" "remote_write" {
  statement {
    sid       = "RemoteWriteOwnWorkspace"
    actions   = ["aps:RemoteWrite"]
    resources = [aws_prometheus_workspace.this.arn]
  }
}

data "aws_iam_policy_document" "query" {
  statement {
    sid       = "QueryOwnWorkspace"
    actions   = ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"]
    resources = [aws_prometheus_workspace.this.arn]
  }
}
