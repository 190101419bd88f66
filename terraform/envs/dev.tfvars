# The dev environment (environments/dev.yaml): the root terraform/environment, applied with this file.
environment    = "dev"
aws_account_id = "111111111111"
aws_region     = "eu-west-1"

# dev (the build environment) owns the one image repository; every other environment pulls promoted digests (and worker bundles) from it.
image_pull_account_ids = ["222222222222", "333333333333"]

network = {
  vpc_cidr            = "10.20.0.0/16"
  availability_zones  = ["eu-west-1a", "eu-west-1b"]
  single_nat_gateway  = true
  interface_endpoints = []
}

api_capacity = {
  desired_count = 1
  min_capacity  = 1
  max_capacity  = 3
}

# Exactly the ARNs api.secrets of environments/dev.yaml names (test/infra/ecs-secrets.test.ts).
api_secret_arns = []

worker_concurrency = {
  maximum = 5
}

# Pull-request previews pr-<n> derive from dev (environments/dev.yaml previews): the preview role and the preview GitHub environment.
previews = true

log_level          = "debug"
log_retention_days = 14
protect_data       = false

# Another environment promotes from this one (its promotion.from): promote.yml reads it.
promotes_onward = true
