output "aws_region" {
  description = "Region the environment runs in."
  value       = local.region
}

output "aws_account_id" {
  description = "Account the environment runs in."
  value       = local.account_id
}

output "ecr_repository_url" {
  description = "ECR repository of the API image and the worker bundle (this account's, or the shared one): image.repository of the environment file."
  value       = local.ecr_repository_url
}

output "signing_key_uri" {
  description = "cosign key reference build-push signs with (signing.key in this environment's file); null where the repository is shared from another account."
  value       = var.shared_ecr_repository == null ? module.ecr[0].signing_key_uri : null
}

output "signing_public_key" {
  description = "PEM public key every deploy verifies signatures with: commit it as environments/signing/cosign.pub."
  value       = var.shared_ecr_repository == null ? module.ecr[0].signing_public_key : null
}

output "ecs_cluster_name" {
  description = "ECS cluster of the API."
  value       = module.ecs_service.cluster_name
}

output "ecs_service_name" {
  description = "ECS service of the API."
  value       = module.ecs_service.service_name
}

output "worker_function_name" {
  description = "Lambda function of the worker."
  value       = module.lambda_worker.function_name
}

output "worker_alias" {
  description = "Alias the worker's event source invokes."
  value       = module.lambda_worker.alias_name
}

output "bucket_name" {
  description = "Content bucket (CONTENT_ENGINE_BUCKET)."
  value       = module.storage.bucket_name
}

output "queue_url" {
  description = "Jobs queue (CONTENT_ENGINE_QUEUE_URL)."
  value       = module.queue.queue_url
}

output "dlq_url" {
  description = "Dead-letter queue of the jobs queue."
  value       = module.queue.dlq_url
}

output "page_topic_arn" {
  description = "SNS topic of the page tier (system faults)."
  value       = module.observability.page_topic_arn
}

output "ticket_topic_arn" {
  description = "SNS topic of the ticket tier (client faults, slow burns, capacity)."
  value       = module.observability.ticket_topic_arn
}

output "eks_cluster_name" {
  description = "EKS cluster name, empty when the EKS path is disabled."
  value       = var.eks.enabled ? module.eks[0].cluster_name : ""
}

output "deploy_role_arn" {
  description = "Role the GitHub deploy jobs of this environment assume."
  value       = module.github_oidc.role_arn
}

output "promote_read_role_arn" {
  description = "readRoleArn of the environment file: promote.yml reads this environment with it (read-only), and the previous environment's promote assumes it to plan this one."
  value       = module.github_oidc.promote_read_role_arn
}

output "preview_role_arn" {
  description = "previews.roleArn of the environment file: the role preview.yml runs pull requests' previews with; null without previews."
  value       = module.github_oidc.preview_role_arn
}

output "eks_workload_role_arns" {
  description = "Pod Identity roles of the API, the worker and KEDA (empty when EKS is disabled)."
  value = var.eks.enabled ? {
    api    = module.eks[0].api_role_arn
    worker = module.eks[0].worker_role_arn
    keda   = module.eks[0].keda_role_arn
  } : {}
}

output "load_balancer_dns_name" {
  description = "DNS name of the API load balancer."
  value       = module.ecs_service.load_balancer_dns_name
}

output "load_balancer_name" {
  description = "Name of the API's load balancer."
  value       = module.ecs_service.load_balancer_name
}

output "target_group_name" {
  description = "Name of the API's target group."
  value       = module.ecs_service.target_group_name
}

output "metrics_query_url" {
  description = "Prometheus endpoint of the environment's metrics workspace: Grafana's Prometheus datasource (SigV4, service aps)."
  value       = module.metrics.query_url
}

output "metrics_remote_write_url" {
  description = "Remote-write endpoint of the metrics workspace (the ECS sidecar writes here; point the EKS cluster's Prometheus here too)."
  value       = module.metrics.remote_write_url
}

output "metrics_remote_write_policy_json" {
  description = "aps:RemoteWrite on this environment's workspace only: for the EKS cluster's Prometheus role."
  value       = module.metrics.remote_write_policy_json
}

output "metrics_query_policy_json" {
  description = "Read-only queries of this environment's workspace: for Grafana's role."
  value       = module.metrics.query_policy_json
}
