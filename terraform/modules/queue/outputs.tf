output "queue_url" {
  description = "URL of the jobs queue (CONTENT_ENGINE_QUEUE_URL)."
  value       = aws_sqs_queue.jobs.url
}

output "queue_arn" {
  description = "ARN of the jobs queue."
  value       = aws_sqs_queue.jobs.arn
}

output "queue_name" {
  description = "Name of the jobs queue."
  value       = aws_sqs_queue.jobs.name
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

output "visibility_timeout_seconds" {
  description = "Effective visibility timeout of the jobs queue."
  value       = aws_sqs_queue.jobs.visibility_timeout_seconds
}
