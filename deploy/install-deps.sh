#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages pairs builds against, plus any named as arguments (only those missing),
# and checks for Swift.
set -euo pipefail
packages=(pkg-config libzmq3-dev libhdf5-dev libopenblas-dev libssl-dev "$@")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null; then
  echo "swift not found: install the Swift 6 toolchain (https://www.swift.org/install/linux/) and put it on PATH" >&2
  exit 1
fi
