#!/usr/bin/env bash
# The evaluation in one command: installs the anchors, then runs eval.py, which prints the
# Markdown tables for EVAL.md on stdout (progress and errors on stderr).
#   benches/eval/run.sh                     # uses target/release/photo-suite and ../shared/photos
#   PHOTO_SUITE_BIN=/path/to/photo-suite PHOTO_SUITE_PHOTOS=/path/to/photos benches/eval/run.sh
# No build here: build photo-suite first (cargo build --release) or point PHOTO_SUITE_BIN at one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh" >&2
exec "${PYTHON:-python3}" "$here/eval.py" "$@"
