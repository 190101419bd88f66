output "workspace_id" {
  description = "ID of the Amazon Managed Service for Prometheus workspace."
  value       = aws_prometheus_workspace.this.id
}

output "workspace_arn" {
  description = "ARN of the workspace (the resource of the remote-write and query policies)."
  value       = aws_prometheus_workspace.this.arn
}

output "query_url" {
  description = "Prometheus-compatible endpoint Grafana's Prometheus datasource reads (SigV4 auth, service aps)."
  value       = aws_prometheus_workspace.this.prometheus_endpoint
}

output "remote_write_url" {
  description = "Remote-write endpoint the collectors send to (the ECS sidecar; the EKS cluster's Prometheus)."
  value       = local.remote_write_url
}

output "remote_write_policy_json" {
  description = "IAM policy allowing aps:RemoteWrite to this workspace only; attach it to the collector's role."
  value       = data.aws_iam_policy_document.remote_write.json
}

output "query_policy_json" {
  description = "IAM policy allowing read-only queries of this workspace; attach it to Grafana's role."
  value       = data.aws_iam_policy_document.query.json
}

output "collector" {
  description = "The ECS collector sidecar: image, rendered Prometheus agent configuration and remote-write policy (modules/ecs-service metrics_collector)."
  value = {
    image       = var.collector_image
    config      = local.agent_config
    policy_json = data.aws_iam_policy_document.remote_write.json
  }
}
