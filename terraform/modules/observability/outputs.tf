output "paging_topic_arn" {
  description = "ARN of the SNS topic alarms page through."
  value       = aws_sns_topic.paging.arn
}

output "paging_key_arn" {
  description = "ARN of the KMS key encrypting the paging topic."
  value       = aws_kms_key.paging.arn
}
