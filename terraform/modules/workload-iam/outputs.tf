output "api_policy_json" {
  description = "IAM policy document for the API: write uploads/, read uploads/ and jobs/, enqueue jobs."
  value       = data.aws_iam_policy_document.api.json
}

output "worker_policy_json" {
  description = "IAM policy document for the worker: consume the queue, read uploads/ and jobs/, write jobs/, list them and re-drive stalled jobs, peek at the DLQ, invoke the configured Bedrock model."
  value       = data.aws_iam_policy_document.worker.json
}

output "queue_depth_reader_policy_json" {
  description = "IAM policy document that only reads the jobs queue's attributes (KEDA)."
  value       = data.aws_iam_policy_document.queue_depth_reader.json
}
