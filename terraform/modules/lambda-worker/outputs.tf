output "function_name" {
  description = "Name of the worker function."
  value       = aws_lambda_function.worker.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the worker function."
  value       = aws_lambda_function.worker.arn
}

output "alias_name" {
  description = "Alias the event source invokes (live)."
  value       = aws_lambda_alias.live.name
}

output "alias_arn" {
  description = "ARN of the live alias."
  value       = aws_lambda_alias.live.arn
}

output "role_arn" {
  description = "ARN of the worker's execution role."
  value       = aws_iam_role.worker.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the worker."
  value       = aws_cloudwatch_log_group.worker.name
}
