output "page_topic_arn" {
  description = "ARN of the SNS topic of the page tier (system faults: someone acts now)."
  value       = aws_sns_topic.paging.arn
}

output "ticket_topic_arn" {
  description = "ARN of the SNS topic of the ticket tier (client faults, slow burns, capacity: the next working day)."
  value       = aws_sns_topic.ticket.arn
}

output "paging_key_arn" {
  description = "ARN of the KMS key encrypting both alarm topics."
  value       = aws_kms_key.paging.arn
}
