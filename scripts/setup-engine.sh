#!/usr/bin/env bash
# Make sure a Docker engine answers. Never touches an engine that already works.
# On Debian as root: installs Debian 13's docker.io / docker-compose / docker-buildx
# (trixie pinned low so nothing else moves) and starts dockerd when it is not running.
set -euo pipefail

log() { printf '[setup-engine] %s\n' "$*" >&2; }

engine_ok() { docker info >/dev/null 2>&1; }

if engine_ok; then exit 0; fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  log "No Docker engine answers 'docker info', and automatic install needs root on Debian."
  log "Install Docker Engine >= 24 with the Compose v2 plugin, start it, and run this again."
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! docker compose version >/dev/null 2>&1; then
  log "installing docker.io, docker-compose, docker-buildx from Debian 13 (trixie)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Decide by what apt can install, not by /etc/os-release (installing from trixie may have
  # upgraded base-files, so a bookworm machine can already call itself trixie).
  has_candidate() { [ -n "$(apt-cache policy docker-buildx 2>/dev/null | sed -n 's/ *Candidate: *//p' | grep -v '(none)')" ]; }
  target=()
  if ! has_candidate || [ -f /etc/apt/sources.list.d/fiblab-trixie.sources ]; then
    if [ ! -f /etc/apt/sources.list.d/fiblab-trixie.sources ]; then
      log "adding Debian 13 (trixie) as an apt source, pinned low"
      cat >/etc/apt/sources.list.d/fiblab-trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      cat >/etc/apt/preferences.d/fiblab-trixie <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
      apt-get update -qq
    fi
    target=(-t trixie)
  fi
  apt-get install -y -qq --no-install-recommends "${target[@]}" \
    docker.io docker-compose docker-buildx iptables debootstrap >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  # setsid: the engine must outlive the shell that started it
  setsid nohup dockerd >/var/log/fiblab-dockerd.log 2>&1 </dev/null &
fi

for _ in $(seq 1 60); do
  engine_ok && { log "engine ready: $(docker version --format '{{.Server.Version}}')"; exit 0; }
  sleep 1
done
log "dockerd did not answer within 60 s; its log:"
tail -n 30 /var/log/fiblab-dockerd.log >&2 || true
exit 1
