#!/usr/bin/env bash
# Installs the non-npm tools that `npm test` needs into the git-ignored .tools/ folder.
#
# Idempotent: each tool is checked against its pinned version first and skipped when it matches,
# so a second run takes a second or two. Go builds are slow on two cores, so the installs that
# do not share state run in parallel. With CI=true a tool that fails to install fails the run;
# on a developer machine it is reported loudly and the tests that need it fail through toolPath().
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
LOGS="$TOOLS/logs"
# tflint plugins live in .tools/tflint-plugins (TFLINT_PLUGIN_DIR, see scripts/tools.ts). It stays empty:
# tflint-ruleset-aws is not served by the Go module proxy, so only tflint's bundled Terraform ruleset runs.
mkdir -p "$BIN" "$LOGS" "$TOOLS/tflint-plugins"

# Pinned versions. Helm 3 rather than 4: the deploy action and most platform teams still run
# `helm upgrade --install` with Helm 3 semantics (client-side apply, v3 plugin ABI), and lint/template
# output of a v2 chart is the same in both, so 3.x is the lower-risk choice for a shared pipeline.
HELM_VERSION="v3.22.0"
TERRAFORM_VERSION="v1.5.7" # last MPL-2.0 release
TFLINT_VERSION="v0.64.0"
ACTIONLINT_VERSION="v1.7.12"
CHECKOV_VERSION="3.3.30"
# Property-based fuzzing of the API from its own /openapi.json (services/local/test/openapi-fuzz.test.ts).
SCHEMATHESIS_VERSION="4.32.5"
MOTO_VERSION="5.2.5"
# Distribution package: Debian 12 ships 2.42 (Ubuntu 24.04 runners 2.45); any release from 2.42 on will do.
PROMETHEUS_MIN="2.42"

export GOBIN="$BIN"
export CGO_ENABLED=0
export GOFLAGS="-buildvcs=false"

log() { printf '[setup-tools] %s\n' "$*"; }

# go_module_version BINARY -> the main module version the binary was built from ("" if none).
go_module_version() {
  [[ -x "$1" ]] || return 0
  go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

# go_tool NAME PACKAGE VERSION: `go install PACKAGE@VERSION` into .tools/bin unless already there.
go_tool() {
  local name="$1" pkg="$2" version="$3"
  local have
  have="$(go_module_version "$BIN/$name")"
  if [[ "$have" == "$version" ]]; then
    log "$name $version already installed"
    return 0
  fi
  log "installing $name $version (go install $pkg@$version)"
  local start=$SECONDS
  if ! go install "$pkg@$version" >"$LOGS/$name.log" 2>&1; then
    log "FAILED to install $name, see $LOGS/$name.log:"
    tail -n 20 "$LOGS/$name.log" >&2
    return 1
  fi
  log "installed $name $version in $((SECONDS - start))s"
}

python_version_of() { # VENV PACKAGE -> installed version or ""
  [[ -x "$1/bin/python" ]] || return 0
  "$1/bin/python" -c "import importlib.metadata as m; print(m.version('$2'))" 2>/dev/null || true
}

# pip_tool NAME PACKAGE VERSION: PACKAGE==VERSION in its own venv .tools/NAME-venv, NAME linked into .tools/bin.
pip_tool() {
  local name="$1" package="$2" version="$3"
  local venv="$TOOLS/$name-venv"
  if [[ "$(python_version_of "$venv" "$package")" == "$version" ]]; then
    log "$name $version already installed"
  else
    log "installing $name $version (pip, venv .tools/$name-venv)"
    local start=$SECONDS
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "$package==$version"; } >"$LOGS/$name.log" 2>&1; then
      log "FAILED to install $name, see $LOGS/$name.log:"
      tail -n 20 "$LOGS/$name.log" >&2
      return 1
    fi
    log "installed $name $version in $((SECONDS - start))s"
  fi
  ln -sf "$venv/bin/$name" "$BIN/$name"
}

install_moto() {
  # moto_server 5.x is preinstalled on these machines; reuse it when it answers, else own venv.
  local existing
  existing="$(PATH="${PATH//$BIN:/}" command -v moto_server || true)"
  if [[ -n "$existing" && "$existing" != "$BIN/moto_server" ]] && "$existing" --help >/dev/null 2>&1; then
    log "moto_server found at $existing"
    return 0
  fi
  local venv="$TOOLS/moto-venv"
  if [[ "$(python_version_of "$venv" moto)" != "$MOTO_VERSION" ]]; then
    log "installing moto[server] $MOTO_VERSION (pip, venv .tools/moto-venv)"
    local start=$SECONDS
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "moto[server]==$MOTO_VERSION"; } >"$LOGS/moto.log" 2>&1; then
      log "FAILED to install moto, see $LOGS/moto.log:"
      tail -n 20 "$LOGS/moto.log" >&2
      return 1
    fi
    log "installed moto $MOTO_VERSION in $((SECONDS - start))s"
  else
    log "moto $MOTO_VERSION already installed"
  fi
  ln -sf "$venv/bin/moto_server" "$BIN/moto_server"
}

install_prometheus() {
  local have sudo=""
  have="$(dpkg-query -W -f='${Version}' prometheus 2>/dev/null || true)"
  # CI runners are not root; they have password-less sudo.
  [[ $EUID -ne 0 ]] && sudo="sudo -n"
  if [[ -n "$have" ]] && dpkg --compare-versions "$have" ge "$PROMETHEUS_MIN"; then
    log "prometheus $have already installed"
  else
    log "installing prometheus (Debian package)"
    local start=$SECONDS policy_created=0
    # Keep the package's init scripts from starting a server: tests start their own.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod +x /usr/sbin/policy-rc.d && policy_created=1
    fi
    local ok=0
    { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } \
      >"$LOGS/prometheus.log" 2>&1 && ok=1
    [[ $policy_created == 1 ]] && $sudo rm -f /usr/sbin/policy-rc.d
    if [[ $ok != 1 ]]; then
      log "FAILED to install prometheus, see $LOGS/prometheus.log:"
      tail -n 20 "$LOGS/prometheus.log" >&2
      return 1
    fi
    log "installed prometheus $(dpkg-query -W -f='${Version}' prometheus) in $((SECONDS - start))s"
  fi
  ln -sf /usr/bin/prometheus "$BIN/prometheus"
  ln -sf /usr/bin/promtool "$BIN/promtool"
}

# wrk (Debian package): the load generator of bench/ingest-cost.ts. Only `npm run bench` needs it.
install_wrk() {
  local sudo=""
  [[ $EUID -ne 0 ]] && sudo="sudo -n"
  if [[ ! -x /usr/bin/wrk ]]; then
    log "installing wrk (Debian package)"
    local start=$SECONDS
    # apt's lock may be held by the prometheus job: wait for it rather than fail.
    if ! { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      -o DPkg::Lock::Timeout=300 --no-install-recommends wrk; } >"$LOGS/wrk.log" 2>&1; then
      # No test needs it: a failure is reported, not fatal (also with CI=true).
      log "could not install wrk (npm run bench -- ingest-cost needs it), see $LOGS/wrk.log:"
      tail -n 20 "$LOGS/wrk.log" >&2
      return 0
    fi
    log "installed wrk in $((SECONDS - start))s"
  else
    log "wrk already installed"
  fi
  ln -sf /usr/bin/wrk "$BIN/wrk"
}

# Run every installer as a background job; each one's exit status is collected below.
declare -A jobs=()
start_job() {
  local name="$1"
  shift
  "$@" &
  jobs[$name]=$!
}

started=$SECONDS
start_job helm go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
start_job terraform go_tool terraform github.com/hashicorp/terraform "$TERRAFORM_VERSION"
start_job tflint go_tool tflint github.com/terraform-linters/tflint "$TFLINT_VERSION"
start_job actionlint go_tool actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
start_job checkov pip_tool checkov checkov "$CHECKOV_VERSION"
start_job schemathesis pip_tool schemathesis schemathesis "$SCHEMATHESIS_VERSION"
start_job moto install_moto
start_job prometheus install_prometheus
start_job wrk install_wrk

failed=()
for name in "${!jobs[@]}"; do
  wait "${jobs[$name]}" || failed+=("$name")
done

if ((${#failed[@]} > 0)); then
  log "could not install: ${failed[*]}"
  if [[ "${CI:-}" == "true" ]]; then
    log "CI=true: a missing tool is a failure"
    exit 1
  fi
  log "tests that need these tools will fail with 'not installed: run npm run setup:tools'"
  exit 0
fi
log "all tools ready in $((SECONDS - started))s ($BIN)"
