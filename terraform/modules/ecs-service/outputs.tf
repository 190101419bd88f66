output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "service_name" {
  description = "Name of the API service."
  value       = aws_ecs_service.api.name
}

output "service_arn" {
  description = "ARN of the API service."
  value       = aws_ecs_service.api.id
}

output "task_definition_family" {
  description = "Family of the API task definition (the deploy action registers new revisions in it)."
  value       = aws_ecs_task_definition.api.family
}

output "task_role_arn" {
  description = "ARN of the API task role."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "ARN of the task execution role."
  value       = aws_iam_role.execution.arn
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer (point the API's DNS record here)."
  value       = aws_lb.this.dns_name
}

output "load_balancer_arn_suffix" {
  description = "ARN suffix of the load balancer (CloudWatch dimension LoadBalancer)."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group (CloudWatch dimension TargetGroup)."
  value       = aws_lb_target_group.api.arn_suffix
}

output "log_group_name" {
  description = "CloudWatch log group of the API."
  value       = aws_cloudwatch_log_group.api.name
}

output "load_balancer_name" {
  description = "Name of the API's load balancer (environments/<env>.yaml api.loadBalancer)."
  value       = aws_lb.this.name
}

output "target_group_name" {
  description = "Name of the API's target group (environments/<env>.yaml api.targetGroup)."
  value       = aws_lb_target_group.api.name
}
