#!/usr/bin/env bash
# Build the Docker image flyte-sandbox/base:bookworm WITHOUT a container
# registry.
#
# Why: CI machines for this repo can reach the npm registry and the Debian
# mirrors, but not Docker Hub (or any other registry), so `docker pull
# debian:bookworm` / `FROM debian` are not an option. Instead we debootstrap a
# minimal Debian bookworm root filesystem from the same Debian mirror the
# host's apt already uses, install the few packages we need with apt inside
# it, and `docker import` it as an image.
#
# The image carries a label with the sha256 of this very file; if an image
# with the same label already exists the build is skipped, so editing this
# script is what triggers a rebuild. `--force` rebuilds regardless.
#
# Usage: bash scripts/sandbox-base-image.sh [--force]      (as root; any cwd)
#
# Environment:
#   FLYTE_DEBIAN_MIRROR  Debian mirror URL to debootstrap from (default: the
#                        host's apt source for suite "bookworm")
#   FLYTE_DEBIAN_SECURITY_MIRROR
#                        Debian security mirror URL (default: the host's apt
#                        source for "bookworm-security"); "none" to build
#                        without security updates
#   TMPDIR               where the temporary root filesystem is built
#                        (default /var/tmp; needs ~1 GB, must allow device
#                        files and exec, i.e. not a nodev/noexec tmpfs)
#
# Requires: root, debootstrap, a running Docker engine (scripts/start-docker.sh).
set -euo pipefail

readonly IMAGE="flyte-sandbox/base:bookworm"
readonly SUITE="bookworm"
readonly LABEL_KEY="org.flyte.sandbox.base-hash"
# Keep this list minimal: everything here ends up in every sandbox.
# bash/coreutils are Essential (already in minbase) but are listed so the
# intent is explicit. Installed with --no-install-recommends, which keeps
# compilers etc. out -- except what npm's node-gyp hard-depends on
# (libnode-dev, hence libc6-dev/libssl-dev/...).
readonly PACKAGES=(python3 python3-venv python3-pip nodejs npm bash coreutils ca-certificates)
# Only these go through debootstrap's --include. Why not all of PACKAGES:
# debootstrap's dependency resolver ignores "Provides", and bookworm's npm
# depends on virtual packages (node-cli-table3 is provided by node-cli-table,
# node-has by node-function-bind, ...), so `--include=npm` leaves npm and ~8
# node-* packages unconfigured and debootstrap fails. apt, run inside the
# new root, resolves them correctly. ca-certificates comes first so apt in
# the chroot can also use an https mirror.
readonly DEBOOTSTRAP_INCLUDE="ca-certificates"
readonly SANDBOX_UID=1000
readonly SANDBOX_GID=1000

SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"
readonly SCRIPT_PATH

log() { printf '[sandbox-base-image] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# Time a step and print its duration. EPOCHREALTIME (bash >= 5) gives
# sub-second resolution without forking `date`.
step() {
  local name="$1"
  shift
  local t0="$EPOCHREALTIME"
  log "==> $name"
  "$@"
  log "    $name took $(elapsed "$t0")"
}
elapsed() {
  # EPOCHREALTIME's decimal separator follows LC_NUMERIC; awk copes with '.'.
  awk -v a="${1/,/.}" -v b="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%.1fs", b - a }'
}

usage() {
  sed -n '2,/^set -euo pipefail/p' "$SCRIPT_PATH" | sed -e '$d' -e 's/^# \{0,1\}//'
}

force=0
for arg in "$@"; do
  case "$arg" in
  --force) force=1 ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) die "unknown argument: $arg (usage: $0 [--force])" ;;
  esac
done

# ---------------------------------------------------------------------------
# Preconditions. Checked before the (slow) debootstrap, so a missing engine
# fails in a second instead of after minutes of downloading.
# ---------------------------------------------------------------------------
command -v docker >/dev/null 2>&1 || die "docker CLI not found (run scripts/start-docker.sh)"
timeout 10 docker info >/dev/null 2>&1 ||
  die "no Docker engine answers (run scripts/start-docker.sh, or source it from .ci/run)"

script_hash="$(sha256sum "$SCRIPT_PATH" | cut -d' ' -f1)"

if ((force == 0)); then
  existing_hash="$(docker image inspect --format "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$IMAGE" 2>/dev/null || true)"
  if [[ "$existing_hash" == "$script_hash" ]]; then
    echo "$IMAGE is up to date ($LABEL_KEY=${script_hash:0:12}...); skipping build (use --force to rebuild)"
    exit 0
  fi
fi

[[ "$(id -u)" == 0 ]] || die "must run as root (debootstrap and chroot need it)"
command -v debootstrap >/dev/null 2>&1 ||
  die "debootstrap not found (apt-get install -y debootstrap, or run scripts/start-docker.sh)"
readonly KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Without the keyring debootstrap silently skips signature checks; refuse.
[[ -r "$KEYRING" ]] || die "$KEYRING missing (apt-get install -y debian-archive-keyring)"

# ---------------------------------------------------------------------------
# Which Debian mirror? The one the host's apt already uses for bookworm:
# it is known to be reachable from this machine (CI network allows only the
# npm registry and the Debian mirrors). Same for the security archive, so
# the image gets the same security updates the host gets (debootstrap alone
# installs bookworm's point-release versions only). Both source formats are
# read, in the order apt reads them: /etc/apt/sources.list (one-line
# format), then /etc/apt/sources.list.d/*.list (one-line) and *.sources
# (deb822). Other file names (e.g. *.disabled) are ignored, as apt ignores
# them.
# ---------------------------------------------------------------------------
# Prints the URI of the first binary ("deb") source for suite $1 exactly
# (so "bookworm" matches neither bookworm-security nor third-party repos
# like nodesource's "nodistro"), or nothing.
host_source_for_suite() {
  local want="$1" files=() f
  [[ -r /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] && files+=("$f")
  done
  ((${#files[@]})) || return 0
  # First awk: "URI<TAB>SUITE" for every binary source; second: pick one.
  awk '
    function flush(   i, n, t, u, s, types, uris, suites, is_deb) {
      if (enabled != "no" && f_types != "" && f_uris != "" && f_suites != "") {
        n = split(f_types, types, /[ \t]+/)
        is_deb = 0
        for (i = 1; i <= n; i++) if (types[i] == "deb") is_deb = 1
        if (is_deb) {
          split(f_uris, uris, /[ \t]+/)
          n = split(f_suites, suites, /[ \t]+/)
          for (i = 1; i <= n; i++) if (uris[1] != "") print uris[1] "\t" suites[i]
        }
      }
      f_types = f_uris = f_suites = ""; enabled = ""; last = ""
    }
    FNR == 1 { if (prev_deb822) flush(); prev_deb822 = 0 }
    FILENAME ~ /\.sources$/ {
      prev_deb822 = 1
      if ($0 ~ /^[ \t]*#/) next
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      if ($0 ~ /^[ \t]/) {                      # continuation line
        v = $0; gsub(/^[ \t]+|[ \t]+$/, "", v)
        if (last == "types") f_types = f_types " " v
        else if (last == "uris") f_uris = f_uris " " v
        else if (last == "suites") f_suites = f_suites " " v
        next
      }
      k = tolower($0); sub(/:.*/, "", k)
      v = $0; sub(/^[^:]*:[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
      last = k
      if (k == "types") f_types = v
      else if (k == "uris") f_uris = v
      else if (k == "suites") f_suites = v
      else if (k == "enabled") enabled = tolower(v)
      next
    }
    {                                           # one-line format
      line = $0
      sub(/#.*/, "", line)
      gsub(/\[[^]]*\]/, " ", line)              # drop [ arch=... signed-by=... ]
      n = split(line, w, /[ \t]+/)
      j = 0
      for (i = 1; i <= n; i++) if (w[i] != "") x[++j] = w[i]
      if (j >= 3 && x[1] == "deb") print x[2] "\t" x[3]
      delete x
    }
    END { if (prev_deb822) flush() }
  ' "${files[@]}" |
    awk -F'\t' -v suite="$want" '$2 == suite && $1 ~ /^(https?|file):/ { print $1; exit }'
}

if [[ -n "${FLYTE_DEBIAN_MIRROR:-}" ]]; then
  mirror="$FLYTE_DEBIAN_MIRROR"
  mirror_from="FLYTE_DEBIAN_MIRROR"
else
  mirror="$(host_source_for_suite "$SUITE")"
  mirror_from="host apt sources"
  if [[ -z "$mirror" ]]; then
    mirror="http://deb.debian.org/debian"
    mirror_from="default; no '$SUITE' source found in the host's apt configuration"
  fi
fi
mirror="${mirror%/}"
log "mirror: $mirror ($mirror_from)"

security_mirror="${FLYTE_DEBIAN_SECURITY_MIRROR:-$(host_source_for_suite "$SUITE-security")}"
security_mirror="${security_mirror%/}"
if [[ -z "$security_mirror" || "$security_mirror" == none ]]; then
  security_mirror=""
  log "security mirror: none; the image will NOT get $SUITE-security updates"
else
  log "security mirror: $security_mirror"
fi

# debootstrap downloads with wget, which does not read apt's configuration;
# carry over an apt-configured HTTP proxy (e.g. apt-cacher-ng) if there is one.
if [[ -z "${http_proxy:-}" ]] && command -v apt-config >/dev/null 2>&1; then
  # `apt-config shell` prints exactly that one key, shell-quoted.
  apt_proxy=""
  eval "$(apt-config shell apt_proxy Acquire::http::Proxy 2>/dev/null || true)"
  if [[ -n "$apt_proxy" && "$apt_proxy" != DIRECT ]]; then
    export http_proxy="$apt_proxy"
    log "using apt's HTTP proxy for debootstrap: $apt_proxy"
  fi
fi

# ---------------------------------------------------------------------------
# Build in a temp dir that is always removed, even on failure or Ctrl-C.
# ---------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/var/tmp}/flyte-sandbox-rootfs.XXXXXX")"
root="$work/root"
debootstrap_log="$work/debootstrap.out"

cleanup() {
  local rc=$?
  if [[ -n "${work:-}" && -d "$work" ]]; then
    # debootstrap mounts /proc and /sys (and, when it thinks it runs in a
    # container, bind-mounts /dev/null & co.) inside the target while it
    # runs, and install_packages mounts /proc; after an interruption they
    # may still be mounted. Unmount them (deepest first) before deleting,
    # and use --one-file-system so that a mount we failed to remove can
    # never make rm recurse into the host's /proc, /sys or /dev.
    local m
    awk -v p="$work/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r |
      while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$work" || log "warning: could not fully remove $work"
  fi
  return "$rc"
}
trap cleanup EXIT

run_debootstrap() {
  # --variant=minbase: only Essential + apt, no init system, no "important"
  # priority packages -- a container needs none of that.
  if ! debootstrap \
    --variant=minbase \
    --components=main \
    --keyring="$KEYRING" \
    --include="$DEBOOTSTRAP_INCLUDE" \
    "$SUITE" "$root" "$mirror" >"$debootstrap_log" 2>&1; then
    log "debootstrap failed; last lines of its output:"
    tail -n 30 "$debootstrap_log" >&2 || true
    if [[ -r "$root/debootstrap/debootstrap.log" ]]; then
      log "last lines of $root/debootstrap/debootstrap.log:"
      tail -n 30 "$root/debootstrap/debootstrap.log" >&2 || true
    fi
    return 1
  fi
  log "    $(grep -c '^I: Validating ' "$debootstrap_log" || true) base packages"
}

# Run a command inside the new root with a clean, predictable environment
# (the host's PATH/LANG/etc. mean nothing in there; a proxy does).
in_root() {
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root \
    DEBIAN_FRONTEND=noninteractive ${http_proxy:+"http_proxy=$http_proxy"} \
    chroot "$root" "$@"
}

install_packages() {
  # The chroot shares the host's network and debootstrap copied the host's
  # /etc/resolv.conf in, so apt inside reaches the same mirrors as the host.
  # -updates and -security carry the fixes released since the point release
  # debootstrap installed from.
  {
    echo "deb $mirror $SUITE main"
    echo "deb $mirror $SUITE-updates main"
    [[ -z "$security_mirror" ]] || echo "deb $security_mirror $SUITE-security main"
  } >"$root/etc/apt/sources.list"
  # Some maintainer scripts want /proc: mount a fresh procfs (not a bind of
  # the host's) and unmount it right after (cleanup() also unmounts it on
  # failure).
  mount -t proc proc "$root/proc"
  local rc=0
  # --force-unsafe-io: no fsync per file; this root is thrown away if the
  # build fails, and it makes dpkg much faster.
  local dpkg_fast=(-o Dpkg::Options::=--force-unsafe-io)
  {
    in_root apt-get update -q &&
      in_root apt-get upgrade -y -q "${dpkg_fast[@]}" &&
      in_root apt-get install -y -q --no-install-recommends "${dpkg_fast[@]}" "${PACKAGES[@]}"
  } >"$work/apt.out" 2>&1 || rc=$?
  umount "$root/proc"
  if ((rc != 0)); then
    log "apt-get in the new root failed; last lines of its output:"
    tail -n 40 "$work/apt.out" >&2 || true
    return "$rc"
  fi
  log "    $(in_root dpkg-query -W -f '.\n' | wc -l) packages installed in total"
}

add_sandbox_user() {
  # Tests run as this unprivileged user (the image's default USER).
  # --no-log-init: do not add the user to lastlog/faillog (sparse files).
  in_root groupadd --gid "$SANDBOX_GID" sandbox
  in_root useradd --uid "$SANDBOX_UID" --gid "$SANDBOX_GID" --no-log-init \
    --home-dir /home/sandbox --create-home --shell /bin/bash sandbox
}

slim_rootfs() {
  # Package caches and indexes: useless in the image (and stale tomorrow).
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/archives/partial/* \
    "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
  mkdir -p "$root/var/lib/apt/lists/partial"
  # Docs, man pages, translations. Keep /usr/share/doc/*/copyright: the
  # licenses must ship with the binaries.
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
  # Logs and backup files from the install.
  find "$root/var/log" -type f -delete
  rm -f "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
  rm -rf "${root:?}"/tmp/* "${root:?}"/var/tmp/*
  # Host-specific files debootstrap copied in; Docker provides its own
  # /etc/resolv.conf, /etc/hostname and /etc/hosts at run time.
  : >"$root/etc/resolv.conf"
  echo sandbox >"$root/etc/hostname"
  # A machine-id would be identical in every container; leave it empty.
  [[ -e "$root/etc/machine-id" ]] && : >"$root/etc/machine-id"
  log "    rootfs size: $(du -sh --one-file-system "$root" | cut -f1)"
}

import_image() {
  local old_id new_id
  old_id="$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
  # --numeric-owner: the image must carry uid/gid numbers (the sandbox user
  # is 1000 inside), not whatever those numbers map to on the host.
  # /dev, /proc, /sys contents are provided by the container runtime.
  tar --numeric-owner -C "$root" \
    --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* \
    -c . |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'WORKDIR /home/sandbox' \
      --change 'USER sandbox' \
      --change "LABEL $LABEL_KEY=$script_hash" \
      --change 'CMD ["bash"]' \
      --message "debootstrap $SUITE + ${PACKAGES[*]} from $mirror" \
      - "$IMAGE" >/dev/null
  new_id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
  # The previous build is now an untagged leftover; drop it (fails harmlessly
  # if a container still uses it).
  if [[ -n "$old_id" && "$old_id" != "$new_id" ]]; then
    docker image rm "$old_id" >/dev/null 2>&1 || true
  fi
  log "    $IMAGE = ${new_id:7:12}, $(docker image inspect --format '{{.Size}}' "$IMAGE" |
    awk '{ printf "%.0f MB", $1 / 1000000 }')"
}

total_t0="$EPOCHREALTIME"
step "debootstrap --variant=minbase $SUITE" run_debootstrap
step "apt-get install ${PACKAGES[*]}" install_packages
step "add user sandbox ($SANDBOX_UID:$SANDBOX_GID)" add_sandbox_user
step "slim the root filesystem" slim_rootfs
step "docker import $IMAGE" import_image
log "built $IMAGE in $(elapsed "$total_t0")"
