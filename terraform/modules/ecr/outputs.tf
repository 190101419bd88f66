output "repository_url" {
  description = "URL of the repository (registry/name), without tag or digest."
  value       = aws_ecr_repository.this.repository_url
}

output "repository_arn" {
  description = "ARN of the repository."
  value       = aws_ecr_repository.this.arn
}

output "repository_name" {
  description = "Name of the repository."
  value       = aws_ecr_repository.this.name
}

output "signing_key_arn" {
  description = "ARN of the image signing key (null without signing_key)."
  value       = var.signing_key ? aws_kms_key.signing[0].arn : null
}

output "signing_key_uri" {
  description = "cosign key reference of the signing key: signing.key in the building environment's file."
  value       = var.signing_key ? "awskms:///${aws_kms_alias.signing[0].name}" : null
}

output "signing_public_key" {
  description = "PEM public key of the signing key: commit it where signing.publicKey points (environments/signing/cosign.pub)."
  value       = var.signing_key ? data.aws_kms_public_key.signing[0].public_key_pem : null
}
