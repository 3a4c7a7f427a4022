#!/usr/bin/env bash
# Runs one fuzz target (cargo-fuzz, libFuzzer with AddressSanitizer and debug assertions) for a
# while: scripts/fuzz.sh TARGET [SECONDS]. TARGET is decode_analyze, events or requests; SECONDS defaults
# to 1800. Installs cargo-fuzz when missing, builds the seed corpus in fuzz/corpus/TARGET
# (git-ignored) from the photo corpus ($PHOTO_SUITE_PHOTOS, default ../shared/photos from the
# repository root), the sample events and fuzz/regressions/TARGET, then fuzzes. Findings land in
# fuzz/artifacts/TARGET; keep each, minimized, in fuzz/regressions/TARGET (see README.md).
#
# Works on the stable toolchain: RUSTC_BOOTSTRAP=1 lets it take the sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
target="${1:?usage: scripts/fuzz.sh decode_analyze|events|requests [SECONDS]}"
seconds="${2:-1800}"
photos="${PHOTO_SUITE_PHOTOS:-$repo/../shared/photos}"
# Largest seed photo: the small and the broken files make iterations fast; the big camera
# files add little that a small JPEG of the same kind does not.
max_seed_bytes="${FUZZ_MAX_SEED_BYTES:-1100000}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz
fi

corpus="fuzz/corpus/$target"
mkdir -p "$corpus"
case "$target" in
  decode_analyze)
    [ -d "$photos" ] || { echo "no photo corpus at $photos (set PHOTO_SUITE_PHOTOS)" >&2; exit 1; }
    # Images only: no licence texts, readmes or the manifest. Named by content, so reruns
    # do not add copies.
    find "$photos" -type f -size -"$max_seed_bytes"c \
      ! -path '*/licenses/*' ! -name '*.md' ! -name '*.tsv' ! -name '*.txt' -print0 |
      while IFS= read -r -d '' f; do cp "$f" "$corpus/$(sha1sum "$f" | cut -c1-40)"; done
    max_len=4194304 # fits every seed and more
    ;;
  events)
    for f in events/*.json; do cp "$f" "$corpus/$(sha1sum "$f" | cut -c1-40)"; done
    max_len=65536
    ;;
  requests)
    # The sample SNS events, and their messages as bare requests.
    for f in events/sns-*-requested.json; do
      cp "$f" "$corpus/$(sha1sum "$f" | cut -c1-40)"
      python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Records"][0]["Sns"]["Message"])' "$f" > "$corpus/message"
      mv "$corpus/message" "$corpus/$(sha1sum "$corpus/message" 2>/dev/null | cut -c1-40 || echo m)"
    done
    max_len=262144
    ;;
  *)
    echo "unknown target $target (decode_analyze, events or requests)" >&2
    exit 2
    ;;
esac
if [ -d "fuzz/regressions/$target" ]; then
  find "fuzz/regressions/$target" -type f -print0 |
    while IFS= read -r -d '' f; do cp "$f" "$corpus/$(sha1sum "$f" | cut -c1-40)"; done
fi
echo "seed corpus: $(find "$corpus" -type f | wc -l) files in $corpus" >&2

# The fuzz crate's own target dir (fuzz/target), whatever the caller's CARGO_TARGET_DIR; the
# machine has two cores, so the build takes at most two jobs.
unset CARGO_TARGET_DIR
export RUSTC_BOOTSTRAP=1 CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cd fuzz
exec cargo fuzz run --debug-assertions "$target" "corpus/$target" -- \
  -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$max_len" -timeout=60 \
  -print_final_stats=1
