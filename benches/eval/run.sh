#!/usr/bin/env bash
# The evaluation in one command: installs the anchors, then runs eval.py and exposure_bound.py,
# which print the Markdown tables for EVAL.md on stdout (progress and errors on stderr).
#   benches/eval/run.sh                     # uses target/release/photo-suite and ../shared/photos
#   PHOTO_SUITE_BIN=/path/to/photo-suite PHOTO_SUITE_PHOTOS=/path/to/photos benches/eval/run.sh
# No build here: build photo-suite first (cargo build --release) or point PHOTO_SUITE_BIN at one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh" >&2
# eval.py's exit status is the run's; exposure_bound.py adds section 5 (it fails only on an
# error). With arguments (eval.py's --help), eval.py alone runs.
if [ "$#" -gt 0 ]; then
    exec "${PYTHON:-python3}" "$here/eval.py" "$@"
fi
rc=0
"${PYTHON:-python3}" "$here/eval.py" || rc=$?
"${PYTHON:-python3}" "$here/exposure_bound.py" || rc=1
exit "$rc"
