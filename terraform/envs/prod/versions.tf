terraform {
  required_version = ">= 1.5.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.20, < 7.0"
    }
    github = {
      source  = "integrations/github"
      version = ">= 6.6, < 7.0"
    }
  }

  # Remote state in S3 with DynamoDB locking. Bucket, table and region come from
  # `terraform init -backend-config=...` (see terraform/README.md), so no account id lives in git.
  backend "s3" {
    key     = "content-engine/prod.tfstate"
    encrypt = true
  }
}
