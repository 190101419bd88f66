# The prod environment (environments/prod.yaml): the root terraform/environment, applied with this file.
environment    = "prod"
aws_account_id = "333333333333"
aws_region     = "eu-west-1"

# The one repository in the dev account (terraform/README.md "Images across accounts").
shared_ecr_repository = {
  arn = "arn:aws:ecr:eu-west-1:111111111111:repository/content-engine"
  url = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/content-engine"
}

network = {
  vpc_cidr            = "10.40.0.0/16"
  availability_zones  = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  single_nat_gateway  = false
  interface_endpoints = ["ecr.api", "ecr.dkr", "sqs", "logs"]
}

api_capacity = {
  desired_count = 3
  min_capacity  = 3
  max_capacity  = 12
}

# Exactly the ARNs api.secrets of environments/prod.yaml names (test/infra/ecs-secrets.test.ts).
api_secret_arns = []

worker_concurrency = {
  maximum  = 50
  reserved = 60
}

log_level          = "info"
log_retention_days = 365
protect_data       = true

# Production must page someone and waits for a reviewer: paging_subscriptions and reviewers are given at
# apply (terraform/README.md), and the plan fails without them.
require_paging    = true
require_reviewers = true

# prod's root owns the repository-wide OIDC subject template: the root least likely to be destroyed, and
# destroying it only makes every role refuse (GitHub's default sub).
manage_oidc_subject_template = true
