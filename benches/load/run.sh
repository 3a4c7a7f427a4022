#!/usr/bin/env bash
# Load test: 1,000 uploads through the CLI and through the ingest function against moto
# (see load.py). Installs what it needs (the test tools) first; takes several minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/system-deps.sh
scripts/test-tools.sh
exec python3 benches/load/load.py "$@"
