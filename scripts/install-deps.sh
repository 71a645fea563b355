#!/usr/bin/env bash
# System packages the tests use, installed by the repo (never by hand). Safe to run again.
# xmllint checks every PIDF body; SIPp, baresip, linphonec, sipsak and tshark are the interop peers.
# redis-server backs the Redis store and change bus tests; kamailio fronts the cluster interop test, and with its
# presence modules is the reference of `npm run bench -- --peer kamailio`.
# chromium loads SIP.js in a page (driven by puppeteer-core, which downloads no browser of its own).
# systemd-analyze checks the systemd unit in docs/deploy; sqlite3 takes the online backup docs/OPERATIONS.md shows.
set -euo pipefail
packages=(libxml2-utils sip-tester baresip-core linphone-cli tshark sipsak redis-server kamailio kamailio-presence-modules chromium systemd sqlite3)
# sipvicious (svmap, svwar, svcrack) attacks presenced in the interop suite, as scanners attack PBXs.
packages+=(sipvicious)
# `--bench` adds what only `npm run bench -- --peer kamailio` needs: Kamailio's presence tables on a PostgreSQL server
# the bench starts itself (the tests never use them, so CI does not install them).
if [ "${1:-}" = "--bench" ]; then
  packages+=(postgresql kamailio-postgres-modules)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
