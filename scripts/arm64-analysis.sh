#!/usr/bin/env bash
# The arm64 Lambda runs code this machine does not: NEON instead of AVX2 in the resizer, the
# face cascade and the codecs, built for Graviton (.cargo/config.toml). This builds
# imaging-core's `analysis_dump` example for aarch64 (as the Lambda is built: the same
# target-cpu, the static libheif of scripts/aarch64-deps.sh, linked by the zig cargo-lambda
# uses), runs it under qemu-user on the corpus's faces, camera, formats and exif-orientation
# photos, and checks that every analysis document and every rendition's SHA-256 are the same
# as the build for this machine gives. Timings under emulation say nothing; results do.
# Needs: scripts/aarch64-deps.sh run, qemu-user and libc6-arm64-cross (scripts/test-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
deps="$PWD/target/aarch64-deps"
out="$PWD/target/arm64-analysis"
mkdir -p "$out/bin"
# cc-rs and rustc pass the target as Rust names it (--target=aarch64-unknown-linux-gnu), which
# zig does not take: aarch64-deps.sh's wrappers already name zig's.
for tool in zcc zcxx; do
  cat >"$out/bin/$tool" <<EOF
#!/bin/sh
for a in "\$@"; do
  shift
  case "\$a" in --target=*) ;; *) set -- "\$@" "\$a" ;; esac
done
exec "$deps/bin/$tool" "\$@"
EOF
  chmod +x "$out/bin/$tool"
done
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="$out/bin/zcc"
export CC_aarch64_unknown_linux_gnu="$out/bin/zcc" CXX_aarch64_unknown_linux_gnu="$out/bin/zcxx"
export AR_aarch64_unknown_linux_gnu="$deps/bin/zar" RANLIB_aarch64_unknown_linux_gnu="$deps/bin/zranlib"
cargo build --release --quiet -p imaging-core --example analysis_dump
cargo build --release --quiet -p imaging-core --example analysis_dump --target aarch64-unknown-linux-gnu
arm64="target/aarch64-unknown-linux-gnu/release/examples/analysis_dump"
# An ELF whose machine (bytes 18-19) is EM_AARCH64, 0xb7.
[ "$(od -An -tx1 -j18 -N2 "$arm64" | tr -d ' ')" = "b700" ] || { echo "not an aarch64 build: $arm64" >&2; exit 1; }

status=0
for folder in faces camera formats exif-orientation; do
  start=$SECONDS
  target/release/examples/analysis_dump "$folder" >"$out/$folder.native.txt"
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$arm64" "$folder" >"$out/$folder.arm64.txt"
  photos=$(wc -l <"$out/$folder.native.txt")
  [ "$photos" -gt 0 ] || { echo "arm64 analysis: no photos in $folder" >&2; exit 1; }
  if cmp -s "$out/$folder.native.txt" "$out/$folder.arm64.txt"; then
    echo "arm64 analysis: $folder: $photos photos, the same analyses and renditions ($((SECONDS - start))s)"
  else
    echo "arm64 analysis: $folder: DIFFERENT from this machine's (first differing lines):" >&2
    diff "$out/$folder.native.txt" "$out/$folder.arm64.txt" | head -6 | cut -c1-600 >&2
    status=1
  fi
done
exit $status
