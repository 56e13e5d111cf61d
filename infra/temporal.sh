#!/usr/bin/env bash
# Temporal dev server for this machine (tests, demo, the embedded default).
#
#   bash infra/temporal.sh start    # start (installs the CLI first if missing); waits until healthy
#   bash infra/temporal.sh stop     # stop the server this script started
#   bash infra/temporal.sh status   # exit 0 when running and healthy, 3 when not running
#   bash infra/temporal.sh address  # print host:port for TEMPORAL_ADDRESS
#
# State lives in the SQLite file .pure/temporal/temporal.db, so a restart keeps namespaces,
# workflow histories and schedules. Ports: PURE_TEMPORAL_PORT (7233), PURE_TEMPORAL_UI_PORT (8233);
# PURE_TEMPORAL_UI=off starts it without the web UI (--headless).
set -euo pipefail

PURE_LOG_TAG=temporal
# shellcheck source=infra/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

DIR="$PURE_STATE_DIR/temporal"
PIDFILE="$DIR/server.pid"
ADDRFILE="$DIR/server.address"
LOGFILE="$DIR/server.log"
DB="$DIR/temporal.db"
TEMPORAL="$PURE_TOOLS_BIN/temporal"
HOST="$PURE_TEMPORAL_IP"
PORT="$PURE_TEMPORAL_PORT"
ADDRESS="$HOST:$PORT"

healthy() {
  # Exit 0 (and "SERVING") when the frontend answers. The user's TEMPORAL_* env and config file
  # (API keys, TLS for a cloud namespace) must not leak into a check of the local dev server.
  "$TEMPORAL" operator cluster health --address "$ADDRESS" --disable-config-env --disable-config-file \
    --client-connect-timeout 2s --command-timeout 3s >/dev/null 2>&1
}

ui_url() {
  if [[ "$PURE_TEMPORAL_UI" == "off" ]]; then
    echo "UI off"
  else
    echo "UI http://$HOST:$PURE_TEMPORAL_UI_PORT"
  fi
}

start() {
  take_lock "$DIR/.lock"
  if [[ ! -x "$TEMPORAL" ]]; then
    log "Temporal CLI not installed yet; installing it"
    bash "$PURE_ROOT/infra/tools.sh" install temporal
  fi

  local pid
  if pid="$(read_live_pid "$PIDFILE" temporal)"; then
    same_address "$ADDRFILE" "$ADDRESS" "$pid" temporal.sh
    if healthy; then
      log "already running (pid $pid) at $ADDRESS, $(ui_url)"
      return 0
    fi
    log "pid $pid is running but $ADDRESS does not answer yet; waiting for it"
  elif port_open "$HOST" "$PORT"; then
    if healthy; then
      log "a Temporal server not started by this script already answers at $ADDRESS; using it"
      return 0
    fi
    die "port $PORT on $HOST is taken by something that is not a Temporal frontend" \
      "stop that process, or choose another port: PURE_TEMPORAL_PORT=7300 bash infra/temporal.sh start"
  else
    if [[ "$PURE_TEMPORAL_UI" != "off" ]] && port_open "$HOST" "$PURE_TEMPORAL_UI_PORT"; then
      die "UI port $PURE_TEMPORAL_UI_PORT on $HOST is taken" \
        "choose another: PURE_TEMPORAL_UI_PORT=8300, or start without the UI: PURE_TEMPORAL_UI=off"
    fi
    mkdir -p "$DIR"
    local args=(server start-dev
      --db-filename "$DB"
      --ip "$HOST"
      --port "$PORT"
      --log-format json
      --log-level warn)
    if [[ "$PURE_TEMPORAL_UI" == "off" ]]; then
      args+=(--headless)
    else
      # No newsfeed request: the machine may be air-gapped.
      args+=(--ui-ip "$HOST" --ui-port "$PURE_TEMPORAL_UI_PORT" --ui-disable-news-fetch)
    fi
    log "starting: $TEMPORAL ${args[*]}"
    spawn "$LOGFILE" "$PIDFILE" "$TEMPORAL" "${args[@]}"
    pid="$(cat "$PIDFILE")"
    printf '%s\n' "$ADDRESS" >"$ADDRFILE"
  fi

  await_healthy "$pid" "$PURE_TEMPORAL_START_TIMEOUT" "$LOGFILE" "$PIDFILE" "the Temporal dev server at $ADDRESS" \
    "read the log above; a port may be in use (PURE_TEMPORAL_PORT / PURE_TEMPORAL_UI_PORT) or $DB may be damaged" \
    "read $LOGFILE; raise PURE_TEMPORAL_START_TIMEOUT on a slow machine; stop it with: bash infra/temporal.sh stop"
  log "running (pid $pid) at $ADDRESS, $(ui_url), db $DB, log $LOGFILE"
}

stop() {
  take_lock "$DIR/.lock"
  local pid
  if pid="$(read_live_pid "$PIDFILE" temporal)"; then
    stop_pid "$pid" "Temporal dev server" 30
    rm -f "$PIDFILE" "$ADDRFILE"
  else
    log "not running (no live pid in $PIDFILE)"
  fi
}

status() {
  local pid
  if pid="$(read_live_pid "$PIDFILE" temporal)"; then
    # Report the address it was started with, whatever the current environment says.
    [[ -s "$ADDRFILE" ]] && ADDRESS="$(cat "$ADDRFILE")"
    if healthy; then
      echo "temporal: running (pid $pid) at $ADDRESS, healthy, $(ui_url)"
      return 0
    fi
    echo "temporal: running (pid $pid) at $ADDRESS, NOT healthy (log: $LOGFILE)"
    return 1
  fi
  if [[ -x "$TEMPORAL" ]] && healthy; then
    echo "temporal: a server not started by this script answers at $ADDRESS"
    return 0
  fi
  echo "temporal: not running (start: bash infra/temporal.sh start)"
  return 3
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart)
  (stop) # in a subshell, so its lock is released before start takes it
  start
  ;;
status) status ;;
address) echo "$ADDRESS" ;;
*)
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
