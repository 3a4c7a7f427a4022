"""pyvips runner for the 3-rendition job: PHOTO OUT_DIR ITERATIONS.

Prints `iter <wall_ms> <cpu_ms>` per iteration (same protocol as rendition-runner).
libvips at its best: thumbnail() with shrink-on-load and auto-rotate, the 2048
result kept in memory, 1024 and 256 made from it with thumbnail_image().
Run with VIPS_CONCURRENCY=1 for a single-threaded comparison.
"""
import os
import sys
import time

import pyvips

SIZES = (2048, 1024, 256)


def save(img: pyvips.Image, path: str) -> None:
    if pyvips.at_least_libvips(8, 15):
        img.jpegsave(path, Q=85, subsample_mode="on", keep="none")
    else:
        img.jpegsave(path, Q=85, subsample_mode="on", strip=True)


def job(photo: str, out_dir: str) -> None:
    big = pyvips.Image.thumbnail(photo, SIZES[0], size="down").copy_memory()
    save(big, os.path.join(out_dir, f"{SIZES[0]}.jpg"))
    for size in SIZES[1:]:
        save(big.thumbnail_image(size, size="down"), os.path.join(out_dir, f"{size}.jpg"))


def main() -> None:
    photo, out_dir, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3])
    pyvips.cache_set_max(0)
    for _ in range(iterations):
        wall, cpu = time.perf_counter(), time.process_time()
        job(photo, out_dir)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"iter {wall * 1e3:.3f} {cpu * 1e3:.3f}", flush=True)


if __name__ == "__main__":
    main()
