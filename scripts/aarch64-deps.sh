#!/usr/bin/env bash
# Builds the C/C++ libraries that the arm64 Lambda links statically and that no crate bundles:
# libde265 (HEIC), dav1d (AVIF) and libheif, at Debian bookworm's versions and security patches
# (the ones the x86 build links), for aarch64-linux-gnu with glibc 2.17 symbols, so the
# `bootstrap` runs on Amazon Linux 2023 (glibc 2.34) without shipping any .so.
#
# Sources come from Debian's source packages (apt-get source, with a private apt state under
# the output folder: the machine's apt configuration is left alone); the compiler is the zig
# that cargo-lambda uses. Output: static libraries in target/aarch64-deps/prefix/lib, which
# imaging-core/build.rs links for the aarch64 target only (.cargo/config.toml names the folder).
# Quick when already built (a stamp names what was built).
# Needs: cmake, meson, ninja-build, pkg-config, dpkg-dev (dpkg-source), python3 -m ziglang.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/target/aarch64-deps"
prefix="$root/prefix"
glibc="2.17"
packages=(libde265 dav1d libheif)
stamp_want="glibc=$glibc; $(sed -n '/^# config:/,$p' "$0" | sha256sum | cut -c1-16)"

if [ -f "$prefix/.stamp" ] && [ "$(cat "$prefix/.stamp")" = "$stamp_want" ]; then
  echo "aarch64 deps: already built in $prefix" >&2
  exit 0
fi
# config: everything below decides what is built (its hash is in the stamp).
rm -rf "$prefix" "$root/build"
mkdir -p "$root/bin" "$root/build" "$root/src" "$prefix"

# --- sources: Debian bookworm's source packages, newest security version first --------------
apt_dir="$root/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
cat >"$apt_dir/sources.list" <<'EOF'
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian bookworm-updates main
deb-src http://deb.debian.org/debian-security bookworm-security main
EOF
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/none"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" update -qq

# Unpacks package $1 into $root/src/$1: the newest version whose files all download. If the
# newest one's .dsc or orig tarball is missing on the mirror but its debian tarball is there
# (seen on the security suite), its patches are applied on the orig tarball of an older one.
fetch_source() {
  local pkg="$1"
  local dir="$root/src/$pkg" dl="$root/src/dl-$pkg"
  rm -rf "$dir" "$dl"
  mkdir -p "$dl"
  local versions
  versions=$(apt-cache "${apt_opts[@]}" showsrc "$pkg" | sed -n 's/^Version: //p' | sort -urV)
  [ -n "$versions" ] || { echo "no Debian source package $pkg" >&2; return 1; }
  local v newest="" got=""
  for v in $versions; do
    [ -n "$newest" ] || newest="$v"
    if (cd "$dl" && apt-get "${apt_opts[@]}" source -qq --download-only "$pkg=$v" >/dev/null 2>&1); then
      got="$v"
      break
    fi
  done
  [ -n "$got" ] || { echo "could not download any source of $pkg" >&2; return 1; }
  (cd "$dl" && dpkg-source --no-check -x "${pkg}_${got#*:}.dsc" "$dir" >/dev/null)
  if [ "$got" != "$newest" ]; then
    local deb_tar="$dl/${pkg}_${newest#*:}.debian.tar.xz"
    if [ -f "$deb_tar" ]; then
      echo "$pkg: applying $newest's patches on $got's sources" >&2
      local tmp
      tmp=$(mktemp -d)
      tar -xJf "$deb_tar" -C "$tmp"
      (cd "$dir" && while read -r p _; do
        case "$p" in "" | \#*) continue ;; esac
        # patches that the older version already has applied are skipped
        if ! patch -p1 -R --dry-run -s -f <"$tmp/debian/patches/$p" >/dev/null 2>&1; then
          patch -p1 -s -f <"$tmp/debian/patches/$p"
        fi
      done <"$tmp/debian/patches/series")
      rm -rf "$tmp"
      got="$newest"
    else
      echo "$pkg: using $got (newest $newest could not be downloaded)" >&2
    fi
  fi
  echo "$pkg $got" >>"$root/versions.txt"
  rm -rf "$dl"
}
: >"$root/versions.txt"
for p in "${packages[@]}"; do fetch_source "$p"; done

# --- toolchain: zig for aarch64-linux-gnu.$glibc, as cargo-lambda links with ------------------
zig=$(python3 -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
# (zig rejects the glibc version in the triple when it preprocesses stdin with no -x, as meson
# does to probe the compiler: the wrappers add the -x; and meson 1.0 does not know zig's linker
# by its version string, which is LLD's: the wrappers answer that probe as LLD.)
for tool in cc c++; do
  name=$([ "$tool" = cc ] && echo zcc || echo zcxx)
  lang=$([ "$tool" = cc ] && echo c || echo c++)
  cat >"$root/bin/$name" <<EOF
#!/bin/sh
[ "\$*" = "-Wl,--version" ] && { echo "LLD 22.1 (zig ld; compatible with GNU linkers)"; exit 0; }
x=""
for a in "\$@"; do case "\$a" in -x*) x=given ;; -) [ -n "\$x" ] || x=add ;; esac; done
[ "\$x" = add ] && set -- -x $lang "\$@"
exec "$zig" $tool -target aarch64-linux-gnu.$glibc -fno-sanitize=undefined "\$@"
EOF
done
printf '#!/bin/sh\nexec "%s" ar "$@"\n' "$zig" >"$root/bin/zar"
printf '#!/bin/sh\nexec "%s" ranlib "$@"\n' "$zig" >"$root/bin/zranlib"
chmod +x "$root/bin/"*
cat >"$root/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER "$root/bin/zcc")
set(CMAKE_CXX_COMPILER "$root/bin/zcxx")
set(CMAKE_AR "$root/bin/zar" CACHE FILEPATH "")
set(CMAKE_RANLIB "$root/bin/zranlib" CACHE FILEPATH "")
set(CMAKE_FIND_ROOT_PATH "$prefix")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
cat >"$root/meson-cross.ini" <<EOF
[binaries]
c = '$root/bin/zcc'
cpp = '$root/bin/zcxx'
ar = '$root/bin/zar'
ranlib = '$root/bin/zranlib'
pkg-config = 'pkg-config'

[host_machine]
system = 'linux'
cpu_family = 'aarch64'
cpu = 'aarch64'
endian = 'little'
EOF
# Only our prefix is searched, never the build machine's x86 libraries.
export PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
jobs=$(nproc)
# Runs a build step with its output in a log, shown (its end) only when the step fails.
step() {
  local log="$root/build/$1.log"
  shift
  "$@" >"$log" 2>&1 || { tail -40 "$log" >&2; echo "failed: $* (log: $log)" >&2; exit 1; }
}
cmake_common=(-G Ninja -DCMAKE_TOOLCHAIN_FILE="$root/toolchain.cmake" -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -Wno-dev)

# --- libde265: the HEVC decoder (decoder library only) ---------------------------------------
step libde265-configure cmake -S "$root/src/libde265" -B "$root/build/libde265" "${cmake_common[@]}" \
  -DENABLE_DECODER=OFF -DENABLE_ENCODER=OFF -DENABLE_SDL=OFF
step libde265-build cmake --build "$root/build/libde265" -j "$jobs"
step libde265-install cmake --install "$root/build/libde265"

# --- dav1d: the AV1 decoder (with its NEON assembly) -----------------------------------------
step dav1d-configure meson setup "$root/build/dav1d" "$root/src/dav1d" --cross-file "$root/meson-cross.ini" \
  --prefix "$prefix" --libdir lib --buildtype release --default-library static \
  -Denable_tools=false -Denable_tests=false -Denable_examples=false
step dav1d-build ninja -C "$root/build/dav1d" -j "$jobs"
step dav1d-install ninja -C "$root/build/dav1d" install

# --- libheif: decoders built in (no plugin loading), no encoders, no examples ------------------
step libheif-configure cmake -S "$root/src/libheif" -B "$root/build/libheif" "${cmake_common[@]}" \
  -DWITH_EXAMPLES=OFF -DWITH_GDK_PIXBUF=OFF -DENABLE_PLUGIN_LOADING=OFF -DBUILD_TESTING=OFF \
  -DWITH_LIBDE265=ON -DWITH_LIBDE265_PLUGIN=OFF -DWITH_DAV1D=ON -DWITH_DAV1D_PLUGIN=OFF \
  -DWITH_X265=OFF -DWITH_AOM_DECODER=OFF -DWITH_AOM_ENCODER=OFF -DWITH_SvtEnc=OFF -DWITH_RAV1E=OFF \
  -DWITH_LIBSHARPYUV=OFF -DWITH_FUZZERS=OFF
# The decoders must be built in: libheif quietly leaves out one it did not find.
for d in "libde265 (HEIC decoder)" "Dav1d (AVIF decoder)"; do
  grep -qF "$d: found (built-in)" "$root/build/libheif-configure.log" || {
    echo "libheif was configured without $d (see $root/build/libheif-configure.log)" >&2
    exit 1
  }
done
step libheif-build cmake --build "$root/build/libheif" -j "$jobs"
step libheif-install cmake --install "$root/build/libheif"

rm -f "$prefix"/lib/*.so*
echo "$stamp_want" >"$prefix/.stamp"
echo "aarch64 deps built in $prefix: $(tr '\n' ' ' <"$root/versions.txt")" >&2
