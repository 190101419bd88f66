output "environments" {
  description = "Names of the GitHub environments this manages."
  value       = [for env in github_repository_environment.this : env.environment]
}

output "preview_environment" {
  description = "The GitHub environment preview.yml's jobs run in (preview), or null when preview_environment is false."
  value       = var.preview_environment ? github_repository_environment.this[local.preview_environment_name].environment : null
}

output "oidc_subject_claim_keys" {
  description = "The claims, in order, GitHub joins into a job's OIDC sub (repo, context, job_workflow_ref); modules/github-oidc's trust policies are built on them."
  value       = local.oidc_subject_claim_keys
}

output "deploy_branch" {
  description = "The branch the environments accept deployments from."
  value       = var.deploy_branch
}
