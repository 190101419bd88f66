# The staging environment (environments/staging.yaml): the root terraform/environment, applied with this file.
environment    = "staging"
aws_account_id = "222222222222"
aws_region     = "eu-west-1"

# The one repository in the dev account (terraform/README.md "Images across accounts").
shared_ecr_repository = {
  arn = "arn:aws:ecr:eu-west-1:111111111111:repository/content-engine"
  url = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/content-engine"
}

network = {
  vpc_cidr            = "10.30.0.0/16"
  availability_zones  = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  single_nat_gateway  = true
  interface_endpoints = []
}

api_capacity = {
  desired_count = 2
  min_capacity  = 2
  max_capacity  = 4
}

# Exactly the ARNs api.secrets of environments/staging.yaml names (test/infra/ecs-secrets.test.ts).
api_secret_arns = []

worker_concurrency = {
  maximum = 10
}

log_level          = "info"
log_retention_days = 30
protect_data       = false

# Another environment promotes from this one (its promotion.from): promote.yml reads it.
promotes_onward = true
