# tflint's bundled Terraform ruleset, all rules. The AWS ruleset plugin is not served by the
# Go module proxy this project installs from, so it cannot be installed offline (see README.md).
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}

# Modules pin a provider range, not an exact version: the roots' lock files pin the exact build.
rule "terraform_required_providers" {
  enabled = true
}
