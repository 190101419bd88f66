output "role_arn" {
  description = "ARN of the deploy role (aws-actions/configure-aws-credentials role-to-assume)."
  value       = aws_iam_role.deploy.arn
}

output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider the role trusts."
  value       = local.provider_arn
}

output "promote_read_role_arn" {
  description = "ARN of the promote read role (readRoleArn in the environment file): promote.yml runs as it, read-only."
  value       = aws_iam_role.promote_read.arn
}

output "preview_role_arn" {
  description = "ARN of the preview role (previews.roleArn in the environment file): preview.yml runs as it; null without previews."
  value       = var.previews == null ? null : aws_iam_role.preview[0].arn
}
