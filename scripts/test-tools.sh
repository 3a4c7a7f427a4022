#!/usr/bin/env bash
# Installs the test tools, by package name from PyPI: moto's S3/SNS/SQS server, cargo-lambda
# (the runtime emulator), cfn-lint and AWS SAM CLI (template checks), pytest, boto3 and Pillow
# (the end-to-end tests' client side); and Debian's chromium, in which the report test opens
# report.html headless, and qemu-user (see below). Quick when they are already there.
set -euo pipefail
python="${PYTHON:-python3}"
need=()
command -v moto_server >/dev/null || need+=("moto[server]")
command -v cargo-lambda >/dev/null || need+=("cargo-lambda")
# The template test imports cfn-lint's decoder: the package, in this Python, not only a command.
{ command -v cfn-lint >/dev/null && "$python" -c 'import cfnlint' 2>/dev/null; } || need+=("cfn-lint")
command -v sam >/dev/null || need+=("aws-sam-cli")
"$python" -c 'import pytest, boto3, PIL' 2>/dev/null || need+=("pytest" "boto3" "pillow")
if [ ${#need[@]} -gt 0 ]; then
  echo "installing test tools: ${need[*]}" >&2
  "$python" -m pip install --quiet --disable-pip-version-check "${need[@]}"
fi
# Debian: chromium, and qemu-user with arm64's C library, in which scripts/arm64-analysis.sh
# runs the analysis built for the arm64 Lambda.
debian=()
command -v chromium >/dev/null || debian+=(chromium)
for p in qemu-user libc6-arm64-cross libgcc-s1-arm64-cross; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || debian+=("$p")
done
if [ ${#debian[@]} -gt 0 ]; then
  echo "installing test tools: ${debian[*]} (Debian)" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${debian[@]}" >/dev/null
fi
