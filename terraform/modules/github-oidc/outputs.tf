output "role_arn" {
  description = "ARN of the deploy role (aws-actions/configure-aws-credentials role-to-assume)."
  value       = aws_iam_role.deploy.arn
}

output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider the role trusts."
  value       = local.provider_arn
}

output "promote_read_role_arn" {
  description = "ARN of the promote read role (readRoleArn in the environment file); null when promote_read_principals is empty."
  value       = length(aws_iam_role.promote_read) > 0 ? aws_iam_role.promote_read[0].arn : null
}
