#!/usr/bin/env python3
"""Side-by-side benchmark: photo-suite against its peers on the 3-rendition job.

What it measures
    The 3-rendition job for one photo: decode, auto-orient (EXIF), write JPEGs
    with longest side 2048, 1024 and 256 (never upscaled), quality 85, 4:2:0,
    metadata stripped. Every tool runs single-threaded (VIPS_CONCURRENCY=1,
    UV_THREADPOOL_SIZE=1, RAYON_NUM_THREADS=1) on the same photos in one run:

      photo-suite    target/release/rendition-runner (in-process loop)
      pyvips         runners/pyvips_runner.py  (thumbnail + thumbnail_image, cache off)
      sharp          runners/sharp_runner.js   (concurrency(1), cache(false))
      vipsthumbnail  one process per size per iteration, 1024/256 made from the 2048 file
      Pillow         runners/pillow_runner.py  (draft() DCT scaling, Lanczos)

How
    Each in-process runner is started once with ITERATIONS = N + 1 and prints
    `iter <wall_ms> <cpu_ms>` per iteration; the first (warm-up) line is dropped.
    vipsthumbnail's iteration is the sum of its three processes' wall times
    (and of their user+sys CPU). Reported: median wall ms, median CPU ms, and
    peak RSS of the tool's process from os.wait4()'s ru_maxrss (max over the
    processes for vipsthumbnail). Linux carries the spawning process's peak RSS
    into the child's ru_maxrss, so the timing phase runs with only the standard
    library loaded here; that floor is printed and is far below every tool's RSS.

    Quality guard (after all timing): a reference per photo = Pillow full decode
    (no draft), exif_transpose, float32 per channel, Lanczos resize to the exact
    size of the tool's 2048.jpg, clipped to [0, 255]; PSNR of each 2048.jpg
    against it. The outputs are also checked for size, 4:2:0 and no EXIF/ICC/XMP.

Targets (per photo, printed as PASS/FAIL):
    photo-suite wall <= 0.6 x pyvips wall; photo-suite peak RSS <= pyvips peak RSS;
    photo-suite PSNR >= pyvips PSNR - 0.5 dB.

Usage
    benches/compare/setup.sh            # installs the peers (idempotent)
    python3 benches/compare/compare.py [--iterations N] [--photos P ...] [--tools T ...]

Exit status: 0 all targets met, 1 a target failed or a tool errored,
2 rendition-runner is missing (the peers are still measured).
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RUNNER = REPO / "target" / "release" / "rendition-runner"
BUILD_HINT = "cargo build --release -p photo-suite-benches --bin rendition-runner"
SIZES = (2048, 1024, 256)
TOOLS = ("photo-suite", "pyvips", "sharp", "vipsthumbnail", "pillow")
ITER_LINE = re.compile(r"^iter\s+(\S+)\s+(\S+)\s*$")
JPEG_OPTS = "[Q=85,strip,subsample-mode=on]"

# photo-suite tunes glibc malloc itself (imaging_core::tune_allocator_for_images: large image
# buffers stay in the heap between photos instead of being mmapped and faulted in again).
# The peers get the same settings through glibc's environment variables, so the comparison is
# of the pipelines, not of allocator defaults: libvips at its best.
MALLOC_TUNING = {"MALLOC_MMAP_THRESHOLD_": str(512 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
ENV = dict(os.environ, VIPS_CONCURRENCY="1", UV_THREADPOOL_SIZE="1",
           RAYON_NUM_THREADS="1", OMP_NUM_THREADS="1", **MALLOC_TUNING)


@dataclass
class Child:
    rc: int
    wall_s: float
    cpu_s: float
    maxrss_kb: int
    stdout: str
    stderr: str
    timed_out: bool


@dataclass
class Result:
    tool: str
    walls_ms: list[float] = field(default_factory=list)
    cpus_ms: list[float] = field(default_factory=list)
    maxrss_kb: int = 0
    error: str | None = None
    psnr: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls_ms)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus_ms)

    @property
    def rss_mb(self) -> float:
        return self.maxrss_kb / 1024


def run_child(cmd: list[str], timeout: float, cwd: Path | None = None) -> Child:
    """Run cmd to completion; rusage comes from os.wait4 on that very child."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env=ENV, cwd=cwd)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(proc.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss,
                     out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                     killed.is_set())


def describe_failure(child: Child) -> str:
    if child.timed_out:
        return "timed out"
    tail = (child.stderr.strip().splitlines() or ["(no stderr)"])[-1]
    return f"exit {child.rc}: {tail[:200]}"


def in_process(tool: str, cmd: list[str], photo: Path, out: Path, n: int, timeout: float) -> Result:
    res = Result(tool)
    child = run_child(cmd + [str(photo), str(out), str(n + 1)], timeout, cwd=HERE)
    lines = [m.groups() for m in map(ITER_LINE.match, child.stdout.splitlines()) if m]
    if child.rc != 0 or child.timed_out or len(lines) != n + 1:
        res.error = describe_failure(child) if child.rc or child.timed_out else \
            f"expected {n + 1} 'iter' lines, got {len(lines)}"
        return res
    res.walls_ms = [float(w) for w, _ in lines[1:]]
    res.cpus_ms = [float(c) for _, c in lines[1:]]
    res.maxrss_kb = child.maxrss_kb
    return res


def vipsthumbnail(photo: Path, out: Path, n: int, timeout: float) -> Result:
    res = Result("vipsthumbnail")
    big = out / f"{SIZES[0]}.jpg"
    steps = [[str(photo), big]] + [[str(big), out / f"{s}.jpg"] for s in SIZES[1:]]
    for i in range(n + 1):
        wall = cpu = 0.0
        for (src, dst), size in zip(steps, SIZES):
            child = run_child(["vipsthumbnail", src, "-s", f"{size}x{size}>",
                               "-o", f"{dst}{JPEG_OPTS}"], timeout)
            if child.rc != 0 or child.timed_out:
                res.error = describe_failure(child)
                return res
            wall += child.wall_s
            cpu += child.cpu_s
            res.maxrss_kb = max(res.maxrss_kb, child.maxrss_kb)
        if i > 0:  # iteration 0 is the warm-up
            res.walls_ms.append(wall * 1e3)
            res.cpus_ms.append(cpu * 1e3)
    return res


def measure(tool: str, photo: Path, out: Path, n: int, timeout: float) -> Result:
    out.mkdir(parents=True)
    py = [sys.executable]
    commands = {
        "photo-suite": [str(RUNNER)],
        "pyvips": py + [str(HERE / "runners" / "pyvips_runner.py")],
        "sharp": ["node", str(HERE / "runners" / "sharp_runner.js")],
        "pillow": py + [str(HERE / "runners" / "pillow_runner.py")],
    }
    if tool == "vipsthumbnail":
        if not shutil.which("vipsthumbnail"):
            return Result(tool, error="vipsthumbnail not found (run benches/compare/setup.sh)")
        return vipsthumbnail(photo, out, n, timeout)
    if tool == "photo-suite" and not RUNNER.exists():
        return Result(tool, error=f"{RUNNER} missing; build it with: {BUILD_HINT}")
    return in_process(tool, commands[tool], photo, out, n, timeout)


def capture(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=ENV, cwd=HERE)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc.__class__.__name__})"
    return proc.stdout.strip() if proc.returncode == 0 else "unavailable"


def machine_and_versions() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    floor = run_child(["true"], 30).maxrss_kb / 1024
    rev = capture(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    rev = "(no commit yet)" if rev.startswith("unavailable") else rev
    return [
        f"- Machine: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"load average {os.getloadavg()[0]:.2f} at start",
        f"- photo-suite: rendition-runner at git {rev} "
        f"({'present' if RUNNER.exists() else 'MISSING'})",
        "- libvips (pyvips): " + capture([sys.executable, "-c",
            "import pyvips as v; print('%d.%d.%d' % tuple(v.version(i) for i in range(3)),"
            " '(pyvips', v.__version__ + ')')"]),
        "- sharp: " + capture(["node", "-p",
            "const v = require('sharp').versions; `${v.sharp} (libvips ${v.vips})`"]),
        "- vipsthumbnail: " + capture(["vipsthumbnail", "--vips-version"]),
        "- Pillow: " + capture([sys.executable, "-c", "import PIL; print(PIL.__version__)"]),
        f"- Python {platform.python_version()}, node " + capture(["node", "--version"]),
        f"- Driver RSS floor carried into children: {floor:.1f} MB",
    ]


# ---- quality guard (numpy/Pillow are imported only after all timing) ----------

def check_outputs(res: Result, out: Path, src_size: tuple[int, int]) -> None:
    from PIL import Image, JpegImagePlugin

    longest = max(src_size)
    for size in SIZES:
        path = out / f"{size}.jpg"
        if not path.exists():
            res.problems.append(f"{path.name} missing")
            continue
        with Image.open(path) as im:
            want = min(size, longest)
            if max(im.size) != want or (im.width >= im.height) != (src_size[0] >= src_size[1]):
                res.problems.append(f"{path.name} is {im.width}x{im.height}, want longest {want}")
            if JpegImagePlugin.get_sampling(im) != 2:
                res.problems.append(f"{path.name} not 4:2:0")
            meta = {m for m, _ in im.applist if m in ("APP1", "APP2", "APP13")}
            if meta:
                res.problems.append(f"{path.name} keeps metadata {sorted(meta)}")


def quality(photo: Path, results: list[Result], outs: dict[str, Path]) -> None:
    import numpy as np
    from PIL import Image, ImageOps

    with Image.open(photo) as src:
        full = ImageOps.exif_transpose(src).convert("RGB")
    channels = [c.convert("F") for c in full.split()]
    src_size = full.size
    del full
    refs: dict[tuple[int, int], np.ndarray] = {}
    for res in results:
        if res.error:
            continue
        check_outputs(res, outs[res.tool], src_size)
        path = outs[res.tool] / f"{SIZES[0]}.jpg"
        if not path.exists():
            continue
        with Image.open(path) as im:
            got = np.asarray(im.convert("RGB"), dtype=np.float32)
            size = im.size
        if size not in refs:
            planes = [np.asarray(c.resize(size, Image.Resampling.LANCZOS)) for c in channels]
            refs[size] = np.clip(np.stack(planes, axis=-1), 0, 255)
        mse = float(np.mean((refs[size] - got) ** 2))
        res.psnr = float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


# ---- report ------------------------------------------------------------------

def ratio(a: float, b: float | None) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def table(rows: list[tuple[Path, list[Result]]]) -> list[str]:
    lines = ["| Photo | Tool | Wall ms (median) | CPU ms (median) | Peak RSS MB "
             "| Wall vs photo-suite | RSS vs photo-suite | PSNR 2048 (dB) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for photo, results in rows:
        ps = next((r for r in results if r.tool == "photo-suite" and not r.error), None)
        for r in results:
            if r.error:
                lines.append(f"| {photo.name} | {r.tool} | error: {r.error} | | | | | |")
                continue
            psnr = f"{r.psnr:.2f}" if r.psnr is not None else "n/a"
            lines.append(
                f"| {photo.name} | {r.tool} | {r.wall:.1f} | {r.cpu:.1f} | {r.rss_mb:.1f} "
                f"| {ratio(r.wall, ps.wall if ps else None)} "
                f"| {ratio(r.rss_mb, ps.rss_mb if ps else None)} | {psnr} |")
    return lines


def targets(photo: Path, results: list[Result]) -> list[tuple[bool, str]]:
    by = {r.tool: r for r in results if not r.error}
    ps, vips = by.get("photo-suite"), by.get("pyvips")
    if not ps or not vips:
        return [(False, f"{photo.name}: targets need photo-suite and pyvips results")]
    checks = [
        (ps.wall <= 0.6 * vips.wall,
         f"{photo.name}: photo-suite wall {ps.wall:.1f} ms <= 0.6 x pyvips {vips.wall:.1f} ms "
         f"= {0.6 * vips.wall:.1f} ms"),
        (ps.maxrss_kb <= vips.maxrss_kb,
         f"{photo.name}: photo-suite peak RSS {ps.rss_mb:.1f} MB <= pyvips {vips.rss_mb:.1f} MB"),
    ]
    if ps.psnr is not None and vips.psnr is not None:
        checks.append((ps.psnr >= vips.psnr - 0.5,
                       f"{photo.name}: photo-suite PSNR {ps.psnr:.2f} dB >= pyvips "
                       f"{vips.psnr:.2f} - 0.5 dB"))
    else:
        checks.append((False, f"{photo.name}: PSNR missing for photo-suite or pyvips"))
    if ps.problems:
        checks.append((False, f"{photo.name}: photo-suite outputs: {'; '.join(ps.problems)}"))
    return checks


def main() -> int:
    photos_root = Path(os.environ.get("PHOTO_SUITE_PHOTOS", REPO.parent / "shared" / "photos"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=7, help="timed iterations (after 1 warm-up)")
    ap.add_argument("--photos", nargs="+", type=Path,
                    default=[photos_root / "faces" / "craft_beer_24mp.jpg",
                             photos_root / "camera" / "motorola_empty_gps.jpg"])
    ap.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    ap.add_argument("--timeout", type=float, default=600, help="seconds per child process")
    ap.add_argument("--keep-outputs", action="store_true", help="keep the rendered JPEGs")
    args = ap.parse_args()

    missing_runner = "photo-suite" in args.tools and not RUNNER.exists()
    if missing_runner:
        print(f"!! {RUNNER} is missing. Build it with:\n!!   {BUILD_HINT}\n"
              "!! Measuring the peers anyway.\n", flush=True)
    for photo in args.photos:
        if not photo.is_file():
            print(f"photo not found: {photo}", file=sys.stderr)
            return 1

    header = machine_and_versions()
    tmp = Path(tempfile.mkdtemp(prefix="photo-suite-compare-"))
    rows: list[tuple[Path, list[Result]]] = []
    outs: dict[Path, dict[str, Path]] = {}
    try:
        for photo in args.photos:  # timing phase: stdlib only in this process
            results, outs[photo] = [], {}
            for tool in args.tools:
                out = tmp / photo.stem / tool
                outs[photo][tool] = out
                print(f"... {photo.name}: {tool}", file=sys.stderr, flush=True)
                results.append(measure(tool, photo, out, args.iterations, args.timeout))
            rows.append((photo, results))
        header.append(f"- Load average {os.getloadavg()[0]:.2f} at end of timing")
        for photo, results in rows:
            print(f"... {photo.name}: quality guard", file=sys.stderr, flush=True)
            quality(photo, results, outs[photo])
    finally:
        if args.keep_outputs:
            print(f"outputs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"## 3-rendition job (2048/1024/256, q85, 4:2:0, stripped), single-threaded, "
          f"median of {args.iterations} after 1 warm-up\n")
    print("\n".join(header) + "\n")
    print("\n".join(table(rows)) + "\n")

    ok = True
    for photo, results in rows:
        for r in results:
            if r.error:
                ok = False
            if r.problems:
                print(f"note: {photo.name}: {r.tool} outputs: {'; '.join(r.problems)}")
        if not {"photo-suite", "pyvips"} <= set(args.tools):
            continue
        for passed, text in targets(photo, results):
            ok &= passed
            print(f"{'PASS' if passed else 'FAIL'} {text}")
    if missing_runner:
        print(f"\n!! rendition-runner was missing; build it with: {BUILD_HINT}")
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
