# Kept apart from main.tf: test/support/terraform-env.ts evaluates main.tf and variables.tf offline,
# without the providers (which come from the Terraform registry).
provider "aws" {
  region = var.aws_region

  # Credentials of another environment's account fail before anything is read or changed: the
  # environment file and this environment's state can only be applied to its own account.
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = {
      Product     = "content-engine"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

# The GitHub side of the repository (its GitHub environment, and where manage_oidc_subject_template is
# set the OIDC subject template): the token comes from GITHUB_TOKEN (terraform/README.md says which
# permissions it needs).
provider "github" {
  owner = split("/", var.github_repository)[0]
}
