#!/usr/bin/env bash
# Installs headless Chromium from Debian's packages for the web console's browser test
# (services/web/test/e2e.test.ts drives /usr/bin/chromium through playwright-core).
#
# Idempotent: does nothing when /usr/bin/chromium already runs. Needs root (or sudo) for apt-get.
# With CI=true a failed install fails the run; on a developer machine it is reported loudly and the
# browser test fails with a message that names this script.
set -uo pipefail

CHROMIUM="/usr/bin/chromium"
log() { printf '[setup-chromium] %s\n' "$*"; }

if [[ -x "$CHROMIUM" ]] && "$CHROMIUM" --version >/dev/null 2>&1; then
  log "$("$CHROMIUM" --version 2>/dev/null) already installed"
  exit 0
fi

SUDO=""
if [[ "$(id -u)" != "0" ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
fi

LOGS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/logs"
mkdir -p "$LOGS"
LOG="$LOGS/chromium.log"
log "installing Debian package chromium (apt-get update && apt-get install -y chromium), log in $LOG"
start=$SECONDS
# fonts-dejavu-core: the console uses system fonts only, and a bare machine may have none.
if {
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update \
    && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core
} >"$LOG" 2>&1 && "$CHROMIUM" --version >/dev/null 2>&1; then
  log "installed $("$CHROMIUM" --version 2>/dev/null) in $((SECONDS - start))s"
  exit 0
fi

log "FAILED to install chromium; the web console's browser test needs $CHROMIUM. Last lines of $LOG:"
tail -n 20 "$LOG" >&2
if [[ "${CI:-}" == "true" ]]; then
  exit 1
fi
exit 0
