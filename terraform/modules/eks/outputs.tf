output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "cluster_endpoint" {
  description = "Endpoint of the Kubernetes API server."
  value       = aws_eks_cluster.this.endpoint
}

output "api_role_arn" {
  description = "Role the API pods assume (helm serviceAccounts.api.roleArn)."
  value       = aws_iam_role.workload["api"].arn
}

output "worker_role_arn" {
  description = "Role the worker pods assume (helm serviceAccounts.worker.roleArn)."
  value       = aws_iam_role.workload["worker"].arn
}

output "keda_role_arn" {
  description = "Role the KEDA operator assumes to read the queue depth."
  value       = aws_iam_role.workload["keda"].arn
}
