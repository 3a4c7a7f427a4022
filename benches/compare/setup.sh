#!/usr/bin/env bash
# Install the peers that benches/compare/compare.py times against photo-suite:
#   pip: pyvips[binary] (libvips bundled), Pillow, numpy
#   npm: sharp (into benches/compare/node_modules)
#   apt: libvips-tools (vipsthumbnail)
# Idempotent: each step is skipped when its tool is already importable/installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"

if ! "$python" -c 'import pyvips, PIL, numpy' >/dev/null 2>&1; then
    echo "setup: pip install pyvips[binary] Pillow numpy"
    "$python" -m pip install --quiet 'pyvips[binary]' Pillow numpy
fi

if ! (cd "$here" && node -e 'require("sharp")' >/dev/null 2>&1); then
    echo "setup: npm install sharp"
    (cd "$here" && npm install --no-save --no-package-lock --silent sharp)
fi

if ! command -v vipsthumbnail >/dev/null 2>&1; then
    echo "setup: apt-get install libvips-tools"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends libvips-tools >/dev/null
fi

"$python" - <<'PY'
import PIL, numpy, pyvips
print(f"setup: ok  Pillow {PIL.__version__}  numpy {numpy.__version__}  "
      f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} (pyvips)")
PY
echo "setup: ok  sharp $(cd "$here" && node -p 'require("sharp").versions.sharp')"
echo "setup: ok  vipsthumbnail $(vipsthumbnail --vips-version)"
