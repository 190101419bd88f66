# Exactly the values environments/<env>.yaml needs.
output "aws_region" {
  description = "Region the environment runs in."
  value       = module.stack.aws_region
}

output "aws_account_id" {
  description = "Account the environment runs in."
  value       = module.stack.aws_account_id
}

output "ecr_repository_url" {
  description = "ECR repository of the image."
  value       = module.stack.ecr_repository_url
}

output "ecs_cluster_name" {
  description = "ECS cluster of the API."
  value       = module.stack.ecs_cluster_name
}

output "ecs_service_name" {
  description = "ECS service of the API."
  value       = module.stack.ecs_service_name
}

output "load_balancer_name" {
  description = "Load balancer of the API (environments/<env>.yaml api.loadBalancer; its alarms resolve the id by it)."
  value       = module.stack.load_balancer_name
}

output "target_group_name" {
  description = "Target group of the API (environments/<env>.yaml api.targetGroup)."
  value       = module.stack.target_group_name
}

output "worker_function_name" {
  description = "Lambda function of the worker."
  value       = module.stack.worker_function_name
}

output "worker_alias" {
  description = "Alias the worker's event source invokes (live)."
  value       = module.stack.worker_alias
}

output "bucket_name" {
  description = "Content bucket."
  value       = module.stack.bucket_name
}

output "queue_url" {
  description = "Jobs queue URL."
  value       = module.stack.queue_url
}

output "dlq_url" {
  description = "Dead-letter queue URL."
  value       = module.stack.dlq_url
}

output "page_topic_arn" {
  description = "SNS topic of the page tier (environments/<env>.yaml alarms.pageTopicArn)."
  value       = module.stack.page_topic_arn
}

output "ticket_topic_arn" {
  description = "SNS topic of the ticket tier (environments/<env>.yaml alarms.ticketTopicArn)."
  value       = module.stack.ticket_topic_arn
}

output "eks_cluster_name" {
  description = "EKS cluster name, empty when the EKS path is disabled."
  value       = module.stack.eks_cluster_name
}

output "deploy_role_arn" {
  description = "Role this environment's GitHub deploy jobs assume."
  value       = module.stack.deploy_role_arn
}

output "promote_read_role_arn" {
  description = "readRoleArn of environments/<env>.yaml: the role promote assumes to plan this environment in its PR."
  value       = module.stack.promote_read_role_arn
}

output "preview_role_arn" {
  description = "previews.roleArn of environments/<env>.yaml: the role preview.yml runs pull requests' previews with (null where previews is off)."
  value       = module.stack.preview_role_arn
}
