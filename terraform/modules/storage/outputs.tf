output "bucket_name" {
  description = "Name of the content bucket."
  value       = local.bucket_id
}

output "bucket_arn" {
  description = "ARN of the content bucket."
  value       = local.bucket_arn
}
