#!/usr/bin/env bash
# Builds the Debian package, installs it with dpkg, starts the service as its systemd unit would
# (this container runs no systemd: ExecStart, User, Group, WorkingDirectory, UMask, Environment and
# EnvironmentFile are read from the installed unit; the sandboxing settings are checked by
# `systemd-analyze verify` only), checks that /health answers, stops it, and purges the package.
# Any failure ends the script with a non-zero status and says why.
# Needs root (dpkg -i). Called by .ci/run after the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
  echo "install-test: FAILED: $*" >&2
  exit 1
}
step() { echo "install-test: $*"; }
started=$(date +%s)

[ "$(id -u)" = 0 ] || fail "must run as root (dpkg -i, runuser)"
if ! command -v cargo-deb >/dev/null 2>&1; then
  step "installing cargo-deb"
  cargo install cargo-deb --locked --version "^3.8" --quiet
fi

# Start from a machine without the package, so postinst runs as on a first install.
if dpkg-query -W -f='${Status}' cbln 2>/dev/null | grep -q installed; then
  step "purging an earlier install"
  dpkg --purge cbln >/dev/null
fi

# CI packs the dev build `cargo test` has just made (CBLN_DEB_PROFILE=dev): what this checks is the
# package — files, owners, keys, the unit — not the optimiser, and a cold release build would double
# CI's time. Run it without the variable to test the release package an NGO installs.
profile=${CBLN_DEB_PROFILE:-release}
step "building the package ($profile build)"
out=$(mktemp -d)
cargo deb --profile "$profile" --output "$out" || fail "cargo deb failed"
debs=("$out"/cbln_*.deb)
deb=${debs[0]}
[ -f "$deb" ] || fail "cargo deb produced no package in $out"
step "built $deb ($(( $(date +%s) - started )) s so far)"

step "dpkg -i"
dpkg -i "$deb" || fail "dpkg -i failed"
trap 'dpkg --purge cbln >/dev/null 2>&1 || true' EXIT

# What postinst must have left behind.
getent passwd cbln >/dev/null || fail "no cbln user"
[ "$(stat -c '%U:%G %a' /var/lib/cbln)" = "cbln:cbln 700" ] \
  || fail "/var/lib/cbln is $(stat -c '%U:%G %a' /var/lib/cbln), not cbln:cbln 700"
[ "$(stat -c '%U:%G %a' /etc/cbln/keys.env)" = "root:cbln 640" ] \
  || fail "/etc/cbln/keys.env is $(stat -c '%U:%G %a' /etc/cbln/keys.env), not root:cbln 640"
[ "$(stat -c '%U:%G %a' /etc/cbln/production.toml)" = "root:cbln 640" ] \
  || fail "/etc/cbln/production.toml is $(stat -c '%U:%G %a' /etc/cbln/production.toml)"
grep -Eq '^ENCRYPTION_KEY=.{40,}$' /etc/cbln/keys.env || fail "keys.env has no ENCRYPTION_KEY"
grep -Eq '^SECRET_KEY=.{40,}$' /etc/cbln/keys.env || fail "keys.env has no SECRET_KEY"
runuser -u nobody -- cat /etc/cbln/keys.env >/dev/null 2>&1 \
  && fail "another user can read /etc/cbln/keys.env"
runuser -u cbln -- cat /etc/cbln/keys.env >/dev/null || fail "the service cannot read its keys"

unit=$(dpkg -L cbln | grep -E '/systemd/system/cbln\.service$' | head -n 1)
[ -n "$unit" ] || fail "the package installs no cbln.service"
step "unit: $unit"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$unit" || fail "systemd-analyze verify rejects $unit"
fi

# The [Service] settings the run below depends on; one value each, except Environment.
setting() { sed -n "s/^$1=//p" "$unit"; }
read -ra exec_start <<<"$(setting ExecStart)"
user=$(setting User)
group=$(setting Group)
workdir=$(setting WorkingDirectory)
env_file=$(setting EnvironmentFile)
env_file=${env_file#-}  # a leading "-" only makes the file optional
mapfile -t environment < <(setting Environment)
[ "${#exec_start[@]}" -gt 0 ] || fail "the unit sets no ExecStart"
for required in user group workdir env_file; do
  [ -n "${!required}" ] || fail "the unit sets no ${required}"
done
grep -qx 'Restart=on-failure' "$unit" || fail "the unit does not restart on failure"
grep -qx 'ProtectSystem=strict' "$unit" || fail "the unit is not ProtectSystem=strict"
grep -qx 'NoNewPrivileges=yes' "$unit" || fail "the unit allows new privileges"

# systemd reads EnvironmentFile as root; its lines are KEY=value, comments start with '#'.
mapfile -t file_environment < <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$env_file")
# The only change from the unit: a free port instead of 8000, which may be taken on this machine
# (an operator would do the same with a drop-in Environment=CBLN__SERVER__PORT=…).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
step "starting '${exec_start[*]}' as $user:$group in $workdir on port $port"
(
  cd "$workdir"
  umask "$(setting UMask)"
  exec setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs \
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin \
    "${environment[@]}" "${file_environment[@]}" CBLN__SERVER__PORT="$port" \
    "${exec_start[@]}"
) >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; dpkg --purge cbln >/dev/null 2>&1 || true' EXIT

health=""
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "the service exited before answering"; }
  if health=$(curl -fsS "http://127.0.0.1:$port/health" 2>/dev/null); then break; fi
  sleep 0.5
done
[ -n "$health" ] || { cat "$log" >&2; fail "/health did not answer within 30 s"; }
step "/health: $health"
echo "$health" | grep -q '"status":"healthy"' || fail "/health is not healthy: $health"
curl -fsS "http://127.0.0.1:$port/health/ready" | grep -q '"ready"' || fail "/health/ready is not ready"
# The installed configuration is the one in force: production (JSON logs) and the database in
# /var/lib/cbln, owned by the service.
[ "$(stat -c '%U' /var/lib/cbln/cbln.db 2>/dev/null)" = "$user" ] \
  || fail "no database owned by $user in /var/lib/cbln"
grep -q '"message":"listening"' "$log" || { cat "$log" >&2; fail "no JSON 'listening' log line (not production?)"; }
process_user=$(ps -o user= -p "$pid" | tr -d ' ')
[ "$process_user" = "$user" ] || fail "the service runs as $process_user, not $user"

step "stopping (SIGTERM)"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || { cat "$log" >&2; fail "the service exited $status on SIGTERM"; }

step "reinstalling over it keeps the keys and the data"
keys_before=$(sha256sum /etc/cbln/keys.env)
dpkg -i "$deb" >/dev/null || fail "reinstalling failed"
[ "$(sha256sum /etc/cbln/keys.env)" = "$keys_before" ] || fail "reinstalling replaced the keys"
[ -e /var/lib/cbln/cbln.db ] || fail "reinstalling lost the database"

step "purging"
trap - EXIT
dpkg --purge cbln >/dev/null || fail "dpkg --purge failed"
[ ! -e /etc/cbln/keys.env ] || fail "purge left /etc/cbln/keys.env behind"
[ ! -e /var/lib/cbln ] || fail "purge left /var/lib/cbln behind"
rm -rf "$log" "$out"
step "passed in $(( $(date +%s) - started )) s"
