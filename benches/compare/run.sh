#!/usr/bin/env bash
# The side-by-side comparison in one command: installs the peers, builds photo-suite's runner,
# then times everyone on the same photos and prints the table, ratios and PSNR guard.
#   benches/compare/run.sh [--iterations N] [--photos P ...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
(cd "$here/../.." && scripts/system-deps.sh && cargo build --release --quiet -p photo-suite-benches --bin rendition-runner)
exec python3 "$here/compare.py" "$@"
