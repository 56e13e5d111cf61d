#!/usr/bin/env bash
# MinIO, a real S3-compatible server, for this machine (tests, demo).
#
#   bash infra/minio.sh start    # start (builds MinIO first if missing); waits until healthy
#   bash infra/minio.sh stop     # stop the server this script started
#   bash infra/minio.sh status   # exit 0 when running and healthy, 3 when not running
#   bash infra/minio.sh env      # print the client settings as `export` lines
#
# Data: .pure/minio/data (kept across restarts). Port PURE_S3_PORT (9000), console port
# PURE_S3_CONSOLE_PORT (9001, the browser console is off). Credentials PURE_S3_ACCESS_KEY /
# PURE_S3_SECRET_KEY (pureadmin / pureadmin-secret). Clients use PURE_S3_ENDPOINT.
set -euo pipefail

PURE_LOG_TAG=minio
# shellcheck source=infra/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

DIR="$PURE_STATE_DIR/minio"
DATA="$DIR/data"
PIDFILE="$DIR/server.pid"
ADDRFILE="$DIR/server.address"
LOGFILE="$DIR/server.log"
MINIO="$PURE_TOOLS_BIN/minio"
HOST="$PURE_S3_IP"
PORT="$PURE_S3_PORT"

healthy() {
  # /health/cluster, not /health/live: live answers before MinIO serves S3 calls (a 503 HeadBucket was seen).
  curl -sf --max-time 2 "http://$HOST:$PORT/minio/health/cluster" >/dev/null 2>&1
}

start() {
  take_lock "$DIR/.lock"
  command -v curl >/dev/null 2>&1 || die "curl not found (used for the health check)" "apt-get install -y curl"
  if [[ ! -x "$MINIO" ]]; then
    log "MinIO not installed yet; building it"
    bash "$PURE_ROOT/infra/tools.sh" install minio
  fi
  if ((${#PURE_S3_ACCESS_KEY} < 3 || ${#PURE_S3_SECRET_KEY} < 8)); then
    die "MinIO needs an access key of at least 3 and a secret key of at least 8 characters" \
      "set PURE_S3_ACCESS_KEY / PURE_S3_SECRET_KEY accordingly"
  fi

  local pid
  if pid="$(read_live_pid "$PIDFILE" minio)"; then
    same_address "$ADDRFILE" "$HOST:$PORT" "$pid" minio.sh
    if healthy; then
      log "already running (pid $pid) at $PURE_S3_ENDPOINT"
      return 0
    fi
    log "pid $pid is running but $PURE_S3_ENDPOINT does not answer yet; waiting for it"
  elif port_open "$HOST" "$PORT"; then
    if healthy; then
      log "an S3 server not started by this script already answers at http://$HOST:$PORT; using it"
      return 0
    fi
    die "port $PORT on $HOST is taken by something that is not MinIO" \
      "stop that process, or choose another port: PURE_S3_PORT=9100 PURE_S3_CONSOLE_PORT=9101 bash infra/minio.sh start"
  else
    if port_open "$HOST" "$PURE_S3_CONSOLE_PORT"; then
      die "console port $PURE_S3_CONSOLE_PORT on $HOST is taken" \
        "choose another: PURE_S3_CONSOLE_PORT=9101 bash infra/minio.sh start"
    fi
    mkdir -p "$DATA"
    log "starting: $MINIO server $DATA --address $HOST:$PORT --console-address $HOST:$PURE_S3_CONSOLE_PORT"
    # Browser console off, no update checks (air-gapped machines), credentials from our env.
    MINIO_ROOT_USER="$PURE_S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$PURE_S3_SECRET_KEY" \
      MINIO_BROWSER=off MINIO_UPDATE=off MINIO_REGION="$PURE_S3_REGION" \
      spawn "$LOGFILE" "$PIDFILE" "$MINIO" server "$DATA" \
      --address "$HOST:$PORT" --console-address "$HOST:$PURE_S3_CONSOLE_PORT"
    pid="$(cat "$PIDFILE")"
    printf '%s\n' "$HOST:$PORT" >"$ADDRFILE"
  fi

  await_healthy "$pid" "$PURE_S3_START_TIMEOUT" "$LOGFILE" "$PIDFILE" "MinIO at $PURE_S3_ENDPOINT" \
    "read the log above; a port may be in use (PURE_S3_PORT / PURE_S3_CONSOLE_PORT) or $DATA may hold data written with other credentials" \
    "read $LOGFILE; raise PURE_S3_START_TIMEOUT on a slow machine; stop it with: bash infra/minio.sh stop"
  log "running (pid $pid) at http://$HOST:$PORT, data $DATA, log $LOGFILE"
}

stop() {
  take_lock "$DIR/.lock"
  local pid
  if pid="$(read_live_pid "$PIDFILE" minio)"; then
    stop_pid "$pid" "MinIO" 30
    rm -f "$PIDFILE" "$ADDRFILE"
  else
    log "not running (no live pid in $PIDFILE)"
  fi
}

status() {
  local pid recorded
  if pid="$(read_live_pid "$PIDFILE" minio)"; then
    # Report the address it was started with, whatever the current environment says.
    recorded="$(cat "$ADDRFILE" 2>/dev/null || true)"
    if [[ -n "$recorded" ]]; then
      HOST="${recorded%:*}"
      PORT="${recorded##*:}"
    fi
    if healthy; then
      echo "minio: running (pid $pid) at http://$HOST:$PORT, healthy"
      return 0
    fi
    echo "minio: running (pid $pid) at http://$HOST:$PORT, NOT healthy (log: $LOGFILE)"
    return 1
  fi
  if healthy; then
    echo "minio: a server not started by this script answers at http://$HOST:$PORT"
    return 0
  fi
  echo "minio: not running (start: bash infra/minio.sh start)"
  return 3
}

print_env() {
  local v
  for v in PURE_S3_ENDPOINT PURE_S3_ACCESS_KEY PURE_S3_SECRET_KEY PURE_S3_REGION; do
    printf 'export %s=%q\n' "$v" "${!v}"
  done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart)
  (stop) # in a subshell, so its lock is released before start takes it
  start
  ;;
status) status ;;
env) print_env ;;
*)
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
