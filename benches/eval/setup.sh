#!/usr/bin/env bash
# Install the anchors that benches/eval/eval.py measures photo-suite against:
#   pip: opencv-contrib-python-headless<5 (Haar cascades in cv2.data, cv2.quality BRISQUE),
#        numpy, Pillow, pillow-heif (to decode HEIC for the anchors), pyvips[binary] (libvips),
#        scipy (exposure_bound.py's linear programmes)
#   npm: smartcrop-sharp + sharp (into benches/eval/node_modules, gitignored)
#   apt: opencv-data (BRISQUE's LIVE model: /usr/share/opencv4/quality/brisque_*_live.yml)
# Idempotent: each step is skipped when its tool is already importable/installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi

# OpenCV 5 wheels no longer ship the Haar cascade files in cv2.data: stay on 4.x.
if ! "$python" -c 'import cv2, os, sys
assert cv2.__version__.startswith("4.") and hasattr(cv2, "quality")
sys.exit(0 if os.path.exists(os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")) else 1)' \
        >/dev/null 2>&1; then
    echo "setup: pip install opencv-contrib-python-headless<5"
    "$python" -m pip install --quiet 'opencv-contrib-python-headless<5'
fi

if ! "$python" -c 'import pyvips, PIL, numpy, pillow_heif, scipy' >/dev/null 2>&1; then
    echo "setup: pip install pyvips[binary] Pillow numpy pillow-heif scipy"
    "$python" -m pip install --quiet 'pyvips[binary]' Pillow numpy pillow-heif scipy
fi

# smartcrop-sharp 2.0.8 declares a peer dependency on sharp ^0.32, whose install script
# downloads libvips from GitHub; sharp 0.35 ships libvips in npm packages (@img/sharp-*) and
# has the same API for what the adapter uses, hence --legacy-peer-deps.
if ! (cd "$here" && node -e 'require("smartcrop-sharp"); require("sharp")' >/dev/null 2>&1); then
    echo "setup: npm install smartcrop-sharp sharp"
    (cd "$here" && npm install --no-save --no-package-lock --legacy-peer-deps --silent smartcrop-sharp sharp)
fi

brisque_dir="${BRISQUE_MODEL_DIR:-/usr/share/opencv4/quality}"
if [ ! -f "$brisque_dir/brisque_model_live.yml" ] || [ ! -f "$brisque_dir/brisque_range_live.yml" ]; then
    echo "setup: apt-get install opencv-data"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends opencv-data >/dev/null
fi

"$python" - <<'PY'
import cv2, numpy, PIL, pillow_heif, pyvips
print(f"setup: ok  OpenCV {cv2.__version__}  numpy {numpy.__version__}  Pillow {PIL.__version__}  "
      f"pillow-heif {pillow_heif.__version__}  "
      f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} (pyvips)")
PY
echo "setup: ok  smartcrop $(cd "$here" && node -p 'require("smartcrop/package.json").version')" \
     "smartcrop-sharp $(cd "$here" && node -p 'require("smartcrop-sharp/package.json").version')" \
     "sharp $(cd "$here" && node -p 'require("sharp").versions.sharp')"
echo "setup: ok  BRISQUE model $brisque_dir (opencv-data $(dpkg-query -W -f='${Version}' opencv-data 2>/dev/null || echo '?'))"
