"""Pillow runner for the 3-rendition job: PHOTO OUT_DIR ITERATIONS.

Prints `iter <wall_ms> <cpu_ms>` per iteration (same protocol as rendition-runner).
draft() lets libjpeg decode at a reduced DCT scale (no smaller than the 2048 fit), then
exif_transpose, Lanczos resize to 2048, and 1024/256 from the 2048 result.
Saved at quality 85, 4:2:0, with no EXIF or ICC profile.
"""
import os
import sys
import time

from PIL import Image, ImageOps

SIZES = (2048, 1024, 256)


def fitted(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """Size with the longest side `longest`, aspect kept; never larger than `size`."""
    w, h = size
    scale = min(1.0, longest / max(w, h))
    return max(1, int(w * scale + 0.5)), max(1, int(h * scale + 0.5))


def fit(img: Image.Image, longest: int) -> Image.Image:
    """Lanczos-resize so the longest side is `longest`; never upscale."""
    size = fitted(img.size, longest)
    return img if size == img.size else img.resize(size, Image.Resampling.LANCZOS)


def job(photo: str, out_dir: str) -> None:
    with Image.open(photo) as src:
        # Ask for the fitted 2048 box, not (2048, 2048): draft() only picks a DCT
        # scale whose result covers the requested size on both sides, so a square
        # request would force a full-size decode of any 3:2 or 4:3 photo.
        src.draft("RGB", fitted(src.size, SIZES[0]))
        img = ImageOps.exif_transpose(src).convert("RGB")
    big = fit(img, SIZES[0])
    for size in SIZES:
        out = big if size == SIZES[0] else fit(big, size)
        out.save(os.path.join(out_dir, f"{size}.jpg"), "JPEG",
                 quality=85, subsampling=2, exif=b"", icc_profile=None)


def main() -> None:
    photo, out_dir, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for _ in range(iterations):
        wall, cpu = time.perf_counter(), time.process_time()
        job(photo, out_dir)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"iter {wall * 1e3:.3f} {cpu * 1e3:.3f}", flush=True)


if __name__ == "__main__":
    main()
