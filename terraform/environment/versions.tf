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

  # Remote state in S3 with DynamoDB locking, one state per environment. Everything but `encrypt` comes
  # from `terraform init -reconfigure -backend-config=...` (terraform/README.md "Using the root"): the
  # bucket, the lock table, the region, and key = content-engine/<environment>.tfstate, so no account id
  # lives in git and no two environments share a state.
  backend "s3" {
    encrypt = true
  }
}
