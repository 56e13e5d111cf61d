# shellcheck shell=bash
# Helpers shared by infra/*.sh (sourced, never executed).

# shellcheck source=infra/env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

PURE_LOG_TAG="${PURE_LOG_TAG:-infra}"

log() { printf '[%s] %s\n' "$PURE_LOG_TAG" "$*" >&2; }

# die WHAT [WHAT-TO-DO]: print what failed and what to do about it, exit 1.
die() {
  printf '[%s] ERROR: %s\n' "$PURE_LOG_TAG" "$1" >&2
  if [[ $# -gt 1 ]]; then
    printf '[%s]   fix: %s\n' "$PURE_LOG_TAG" "$2" >&2
  fi
  exit 1
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# pid_alive PID: true when the process exists (and is not a zombie).
pid_alive() {
  local pid="$1" state
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(ps -o stat= -p "$pid" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z* ]]
}

# read_live_pid PIDFILE NAME: print the pid recorded there if that process is alive and its
# command name starts with NAME.
# Removes a stale pid file.
read_live_pid() {
  local pidfile="$1" name="$2" pid comm
  [[ -f "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  if pid_alive "$pid"; then
    comm="$(ps -o comm= -p "$pid" 2>/dev/null || true)"
    if [[ "$comm" == "$name"* ]]; then
      printf '%s\n' "$pid"
      return 0
    fi
  fi
  rm -f "$pidfile"
  return 1
}

# stop_pid PID NAME [TIMEOUT_S]: SIGTERM, wait, SIGKILL after the timeout.
stop_pid() {
  local pid="$1" name="$2" timeout="${3:-30}" waited=0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if ((waited >= timeout * 10)); then
      log "$name did not exit within ${timeout}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  if pid_alive "$pid"; then
    die "$name (pid $pid) is still running" "kill it by hand: kill -KILL $pid"
  fi
  log "$name stopped"
}

# spawn LOGFILE PIDFILE CMD...: start CMD detached (own session, stdin closed), record its pid.
spawn() {
  local logfile="$1" pidfile="$2"
  shift 2
  mkdir -p "$(dirname "$logfile")" "$(dirname "$pidfile")"
  {
    printf '\n===== %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
  } >>"$logfile"
  # setsid: the server outlives this script and the shell that ran it.
  # The lock fd (take_lock) is closed in the child, or the server would hold the lock forever.
  if [[ -n "${PURE_LOCK_FD:-}" ]]; then
    setsid "$@" >>"$logfile" 2>&1 </dev/null {PURE_LOCK_FD}>&- &
  else
    setsid "$@" >>"$logfile" 2>&1 </dev/null &
  fi
  printf '%s\n' "$!" >"$pidfile"
}

# take_lock LOCKFILE: hold an exclusive lock until this script exits (serialises concurrent
# installs / starts / stops of the same thing).
take_lock() {
  local lockfile="$1"
  mkdir -p "$(dirname "$lockfile")"
  exec {PURE_LOCK_FD}>"$lockfile"
  if ! flock -w 900 "$PURE_LOCK_FD"; then
    die "could not take the lock $lockfile within 900 s" \
      "another infra script holds it; wait for it to finish"
  fi
}

# same_address ADDRFILE ADDRESS PID SCRIPT: die unless the running server (PID) was started for ADDRESS.
# One state folder holds one server: its pid file, log and data (a SQLite file must not be shared).
same_address() {
  local addrfile="$1" address="$2" pid="$3" script="$4" recorded
  recorded="$(cat "$addrfile" 2>/dev/null || true)"
  if [[ -n "$recorded" && "$recorded" != "$address" ]]; then
    die "the server started by this script from $PURE_STATE_DIR (pid $pid) listens on $recorded, not $address" \
      "stop it first (bash infra/$script stop), or give the second instance its own state folder: PURE_STATE_DIR=/path/to/other bash infra/$script start"
  fi
}

# tail_log FILE: show the end of a server log (after a failed start).
tail_log() {
  if [[ -f "$1" ]]; then
    log "last lines of $1:"
    tail -n 25 "$1" >&2 || true
  fi
}

# await_healthy PID TIMEOUT_S LOGFILE PIDFILE WHAT EXIT_HINT TIMEOUT_HINT
# Polls the caller's `healthy` function until it succeeds; dies with the log's tail if the process exits
# (removing its pid file) or the timeout passes. WHAT names the service in the messages.
await_healthy() {
  local pid="$1" timeout="$2" logfile="$3" pidfile="$4" what="$5" exit_hint="$6" timeout_hint="$7"
  local deadline=$((SECONDS + timeout))
  until healthy; do
    if ! pid_alive "$pid"; then
      tail_log "$logfile"
      rm -f "$pidfile"
      die "$what exited during start-up (log: $logfile)" "$exit_hint"
    fi
    if ((SECONDS >= deadline)); then
      tail_log "$logfile"
      die "$what (pid $pid) did not become healthy within ${timeout} s" "$timeout_hint"
    fi
    sleep 0.3
  done
}
