#!/usr/bin/env bash
# Checks that a built Lambda bootstrap (default: sam build's) can run on provided.al2023 arm64:
# an aarch64 ELF, stripped, that needs only glibc's libraries and libgcc_s (which that runtime
# has) and no glibc symbol newer than Amazon Linux 2023's glibc 2.34. Prints what it checked.
set -euo pipefail
bin="${1:-.aws-sam/build/IngestFunction/bootstrap}"
max_glibc="2.34"
allowed_needed="libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1 ld-linux-aarch64.so.1"
objdump=$(command -v aarch64-linux-gnu-objdump || echo objdump)
fail() { echo "check-lambda-bootstrap: $bin: $*" >&2; exit 1; }

[ -f "$bin" ] || fail "missing"
file -b "$bin"
readelf -h "$bin" | grep -q 'Machine:.*AArch64' || fail "not an aarch64 ELF"
readelf -S -W "$bin" | grep -q ' \.symtab ' && fail "not stripped (has .symtab)"
needed=$(readelf -d -W "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)
for lib in $needed; do
  case " $allowed_needed " in *" $lib "*) ;; *) fail "needs $lib, which provided.al2023 lacks" ;; esac
done
newest=$("$objdump" -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
[ -n "$newest" ] || fail "no GLIBC_ symbol versions found"
[ "$(printf '%s\n%s\n' "$newest" "$max_glibc" | sort -V | tail -1)" = "$max_glibc" ] ||
  fail "needs GLIBC_$newest, newer than Amazon Linux 2023's $max_glibc"
echo "ok: $(du -h "$bin" | cut -f1)B, needs: $(echo $needed), newest glibc symbol: GLIBC_$newest (<= $max_glibc)"
