#!/usr/bin/env bash
# Installs the system packages photo-suite builds against (Debian): nasm and cmake for the
# bundled libjpeg-turbo, libheif for HEIC/AVIF, lcms2 for colour management; and, for the arm64
# Lambda (scripts/aarch64-deps.sh, `sam build`), meson, ninja and dpkg-dev to build libde265,
# dav1d and libheif from Debian's sources, and binutils-aarch64-linux-gnu to check the result.
# Quick when they are already there; needs root (or sudo) otherwise.
set -euo pipefail
packages=(nasm cmake pkg-config libheif-dev liblcms2-dev meson ninja-build dpkg-dev binutils-aarch64-linux-gnu)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing system packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
