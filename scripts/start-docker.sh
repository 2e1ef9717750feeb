#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, starting one if needed.
#
# Two ways to use it:
#
#   source scripts/start-docker.sh          # from .ci/run (or any bash script)
#   trap stop_docker_if_started EXIT
#
#     Starts dockerd only if no engine answers, and remembers the pid of the
#     daemon it started in FLYTE_DOCKERD_PID (a plain shell variable, on
#     purpose NOT exported: a child process or a later script must never
#     inherit it and kill a daemon it did not start). stop_docker_if_started
#     stops that daemon and nothing else.
#
#   bash scripts/start-docker.sh            # by hand
#
#     Same start logic, but the daemon is left running when the script exits
#     (that is the point of running it by hand); its pid is printed and
#     written to ${TMPDIR:-/tmp}/flyte-dockerd.pid.
#
# Why dockerd is started with --bridge=none --iptables=false: CI machines
# (firecracker VMs, nested containers) often lack the netfilter modules or
# the privileges that the default bridge network needs, and our sandboxes
# are meant to run without network anyway. Consequence: there is NO default
# bridge network, so every `docker run` must pass `--network none` (or
# `--network host`).
#
# Tunables (environment):
#   FLYTE_DOCKERD_WAIT_SECONDS  how long to wait for the engine (default 60)
#   FLYTE_DOCKERD_LOG           dockerd log file
#                               (default ${TMPDIR:-/tmp}/flyte-dockerd.log)

# When executed (not sourced) we own the shell, so use strict mode. When
# sourced we leave the caller's shell options alone (.ci/run sets its own
# strict mode) and every function below checks its errors explicitly, so it
# behaves the same with or without `set -e`.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
fi

# Reset on every load: only a daemon started by THIS shell, after this
# point, may ever be stopped by stop_docker_if_started.
FLYTE_DOCKERD_PID=""

_flyte_docker_log() { printf '[start-docker] %s\n' "$*" >&2; }

# True when an engine answers. `docker info` can hang forever on a wedged
# socket, so it is always bounded.
_flyte_docker_answers() {
  command -v docker >/dev/null 2>&1 || return 1
  timeout 10 docker info >/dev/null 2>&1
}

# True when $1 is a live (not zombie) dockerd process. Guards against pid
# reuse: we never signal a pid unless it still is a dockerd.
_flyte_is_live_dockerd() {
  local pid="$1" comm state
  [[ -n "$pid" && -r "/proc/$pid/comm" ]] || return 1
  comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
  [[ "$comm" == dockerd ]] || return 1
  # Field 3 of /proc/PID/stat is the state; a zombie has already exited.
  # (comm is field 2 and cannot contain spaces here, it is "dockerd".)
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ "$state" != Z ]]
}

_flyte_install_docker_packages() {
  local missing=()
  local tool
  for tool in docker dockerd debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) && return 0
  _flyte_docker_log "missing: ${missing[*]}; installing docker.io and debootstrap with apt-get"
  if [[ "$(id -u)" != 0 ]]; then
    _flyte_docker_log "ERROR: need root to apt-get install docker.io debootstrap"
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io debootstrap || return 1
}

# Start dockerd unless an engine already answers. Returns non-zero (after
# stopping any daemon it started) if the engine does not come up in time.
start_docker_if_needed() {
  if _flyte_docker_answers; then
    _flyte_docker_log "a Docker engine already answers; not starting one"
    return 0
  fi

  _flyte_install_docker_packages || return 1

  if [[ "$(id -u)" != 0 ]]; then
    _flyte_docker_log "ERROR: no Docker engine answers and starting dockerd needs root"
    return 1
  fi

  local tmp="${TMPDIR:-/tmp}"
  local log="${FLYTE_DOCKERD_LOG:-$tmp/flyte-dockerd.log}"
  local wait_s="${FLYTE_DOCKERD_WAIT_SECONDS:-60}"
  local started_at=$SECONDS

  _flyte_docker_log "starting dockerd (log: $log)"
  # setsid: put dockerd in its own session so a Ctrl-C / SIGHUP aimed at the
  # caller's terminal does not kill it behind the EXIT trap's back; the trap
  # (or the person who ran this by hand) decides when it stops. Without job
  # control the background child is not a process-group leader, so setsid
  # execs dockerd in place and $! is dockerd's own pid (checked below
  # anyway via dockerd's pidfile).
  setsid dockerd --bridge=none --iptables=false </dev/null >"$log" 2>&1 &
  local pid=$!
  FLYTE_DOCKERD_PID="$pid"

  while :; do
    if _flyte_docker_answers; then
      break
    fi
    if ! kill -0 "$pid" 2>/dev/null || [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]]; then
      _flyte_docker_log "ERROR: dockerd (pid $pid) exited before the engine answered; last lines of $log:"
      tail -n 40 "$log" >&2 || true
      FLYTE_DOCKERD_PID=""
      return 1
    fi
    if ((SECONDS - started_at >= wait_s)); then
      _flyte_docker_log "ERROR: Docker engine did not answer within ${wait_s}s; last lines of $log:"
      tail -n 40 "$log" >&2 || true
      # Do not leave a half-started daemon behind.
      stop_docker_if_started
      return 1
    fi
    sleep 0.5
  done

  # Belt and braces: trust dockerd's own pidfile if it disagrees with $!.
  local daemon_pid
  daemon_pid="$(cat /var/run/docker.pid 2>/dev/null || true)"
  if [[ -n "$daemon_pid" && "$daemon_pid" != "$pid" ]] && _flyte_is_live_dockerd "$daemon_pid"; then
    FLYTE_DOCKERD_PID="$daemon_pid"
  fi

  _flyte_docker_log "Docker engine answers after $((SECONDS - started_at))s (dockerd pid $FLYTE_DOCKERD_PID)"
  return 0
}

# Stop the daemon that start_docker_if_needed started in this shell, if any.
# Never touches a daemon that was already running. Safe to call repeatedly;
# meant for `trap stop_docker_if_started EXIT`, so it never calls `exit` and
# preserves $? for the caller's exit status.
stop_docker_if_started() {
  local rc=$?
  local pid="${FLYTE_DOCKERD_PID:-}"
  FLYTE_DOCKERD_PID=""
  if [[ -z "$pid" ]]; then
    return "$rc"
  fi
  if ! _flyte_is_live_dockerd "$pid"; then
    return "$rc"
  fi
  _flyte_docker_log "stopping the dockerd this script started (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  # dockerd gives running containers up to 15 s to stop; allow a bit more.
  local deadline=$((SECONDS + 30))
  while _flyte_is_live_dockerd "$pid" && ((SECONDS < deadline)); do
    sleep 0.5
  done
  if _flyte_is_live_dockerd "$pid"; then
    _flyte_docker_log "dockerd (pid $pid) ignored SIGTERM for 30s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Reap it if it is our child (no-op otherwise).
  wait "$pid" 2>/dev/null || true
  return "$rc"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  # Run by hand: start if needed and leave the daemon running.
  start_docker_if_needed
  if [[ -n "$FLYTE_DOCKERD_PID" ]]; then
    echo "$FLYTE_DOCKERD_PID" >"${TMPDIR:-/tmp}/flyte-dockerd.pid"
    _flyte_docker_log "dockerd left running, pid $FLYTE_DOCKERD_PID (also in ${TMPDIR:-/tmp}/flyte-dockerd.pid)"
  fi
else
  # Sourced: start if needed; the caller installs the EXIT trap.
  start_docker_if_needed || return
fi
