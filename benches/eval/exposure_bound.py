#!/usr/bin/env python3
"""How far any tone statistic can go on the brightness ladders, printed as Markdown.

Issue 3 asks the exposure score to rank the gamma 0.5 / 1 / 2 ladder of every camera/ photo with
the correctly exposed rung best. This measures, on the corpus itself, what a score built from the
tones alone can do, independently of photo-suite's code.

The model. A per-channel gamma moves every luma quantile v to about v^gamma, so the statistic
s(v) = log2(-ln v) moves by exactly log2(gamma): one step per rung. A score that measures
exposure from tones estimates the gamma correction a photo needs as a combination
e = sum(w_i * s_i) - b of such statistics (weights summing to 1, so that e also moves one step per
rung) and scores best the rung whose e is nearest 0. Every rung is then right only if e lies within
+-0.5 on every correctly exposed original. The statistics: quantiles (1, 5, 10, 25, 50, 75, 90 %)
of the luma, and quantiles (5, 25, 50, 75, 95 %) of its local minima and maxima (blocks of 1/48
of the long side), on the photo at 1024 px (the quality rendition's size).

For one to five statistics, a linear programme finds the weights and b that make the largest |e|
over a set of correctly exposed originals as small as possible. Fitted on every correctly exposed
photo of the corpus, that smallest spread is the bound: above 0.5, no such score ranks every
ladder right. Fitted on the camera/ photos only, it shows what tuning to the evaluated ladders
does to the other photos' ladders.

Photos: every non-broken corpus photo with both sides >= 64 px that Pillow (pillow-heif) decodes,
upright, once (a photo whose 32x32 grey thumbnail is within 4 levels of an earlier one is the
same picture). The correct rung is eval.py's: the original, except where MANIFEST.tsv notes it
under- or over-exposed. Ladders are made in memory (no JPEG), as eval.py makes them.

Needs numpy, Pillow, scipy (benches/eval/setup.sh installs them). Same environment as eval.py
(PHOTO_SUITE_PHOTOS).
"""
from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.optimize import linprog

import eval as ev  # eval.py beside this file: corpus path, manifest, upright decoding

GAMMAS = ev.GAMMAS
LUMA_QUANTILES = (1, 5, 10, 25, 50, 75, 90)
LOCAL_QUANTILES = (5, 25, 50, 75, 95)
WORK_SIDE = 1024
MIN_SIDE = 64
SAME_PICTURE_LEVELS = 4.0
MAX_STATISTICS = 5
SHOWN = 2  # best subsets shown per size


def log(msg: str) -> None:
    print(f"exposure_bound: {msg}", file=sys.stderr, flush=True)


def luma(rgb: np.ndarray) -> np.ndarray:
    return 0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]


def block_reduce(y: np.ndarray, k: int, fn) -> np.ndarray:
    h, w = (y.shape[0] // k) * k, (y.shape[1] // k) * k
    return fn(fn(y[:h, :w].reshape(h // k, k, w // k, k), axis=3), axis=1)


NAMES = ([f"luma p{q}" for q in LUMA_QUANTILES] + [f"local-min p{q}" for q in LOCAL_QUANTILES]
         + [f"local-max p{q}" for q in LOCAL_QUANTILES])


def statistics(rgb8: np.ndarray) -> np.ndarray:
    """s = log2(-ln v) of each quantile v (0..1) of the photo's luma and local extremes."""
    y = np.clip(luma(rgb8.astype(np.float64)) / 255.0, 0.5 / 255, 254.5 / 255)
    k = max(2, max(y.shape) // 48)
    v = np.concatenate([
        np.percentile(y, LUMA_QUANTILES),
        np.percentile(block_reduce(y, k, np.min), LOCAL_QUANTILES),
        np.percentile(block_reduce(y, k, np.max), LOCAL_QUANTILES),
    ])
    return np.log2(-np.log(np.clip(v, 0.5 / 255, 254.5 / 255)))


def rung(rgb8: np.ndarray, gamma: float) -> np.ndarray:
    if gamma == 1:
        return rgb8
    return np.clip(np.power(rgb8 / 255.0, gamma) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def minimax(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Weights w (summing to 1) and b minimising max |x @ w - b| over the rows; (w, b, spread)."""
    n = x.shape[1]
    # variables: w (n), b, t; minimise t subject to +-(x w - b) <= t
    a_ub = np.vstack([np.hstack([x, -np.ones((len(x), 1)), -np.ones((len(x), 1))]),
                      np.hstack([-x, np.ones((len(x), 1)), -np.ones((len(x), 1))])])
    res = linprog(c=[0] * (n + 1) + [1], A_ub=a_ub, b_ub=np.zeros(2 * len(x)),
                  A_eq=[[1] * n + [0, 0]], b_eq=[1],
                  bounds=[(-10, 10)] * n + [(None, None), (0, None)], method="highs")
    if not res.success:
        raise SystemExit(f"exposure_bound: linear programme failed: {res.message}")
    return res.x[:n], res.x[n], res.x[n + 1]


def photo_suite_exposure(ladders: dict[str, dict[float, np.ndarray]]) -> dict[str, dict]:
    """photo-suite's `quality.exposure` of every rung: one `photo-suite ingest` over them."""
    with tempfile.TemporaryDirectory(prefix="exposure-bound-") as tmp:
        src, out = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        for key, rungs in ladders.items():
            for g, rgb in rungs.items():
                name = f"{key.replace('/', '__')}__gamma{g}.jpg"
                Image.fromarray(rgb).save(src / name, quality=92)
        log(f"photo-suite ingest over {len(ladders) * len(GAMMAS)} rungs")
        docs, failures = ev.ingest(src, out)
    if failures:
        raise SystemExit(f"exposure_bound: photo-suite failed on {sorted(failures)}")
    return {key: {g: docs[f"{key.replace('/', '__')}__gamma{g}.jpg"]["quality"]["exposure"]
                  for g in GAMMAS} for key in ladders}


def main() -> int:
    notes = ev.read_manifest()
    keys = sorted(k for k in notes if not k.startswith("broken/"))
    photos: dict[str, dict[float, np.ndarray]] = {}
    right: dict[str, float] = {}
    thumbs: list[np.ndarray] = []
    ladders: dict[str, dict[float, np.ndarray]] = {}
    for key in keys:
        try:
            rgb = ev.load_upright(ev.PHOTOS / key)
        except Exception as exc:  # noqa: BLE001 - said on stderr, the photo is left out
            log(f"{key}: not decoded ({type(exc).__name__}), left out")
            continue
        if min(rgb.shape[:2]) < MIN_SIDE:
            continue
        im = Image.fromarray(rgb)
        im.thumbnail((WORK_SIDE, WORK_SIDE), Image.LANCZOS)
        small = np.asarray(im)
        thumb = luma(np.asarray(im.resize((32, 32), Image.BILINEAR)).astype(np.float64))
        if any(np.abs(thumb - t).mean() < SAME_PICTURE_LEVELS for t in thumbs):
            log(f"{key}: the same picture as an earlier photo, counted once")
            continue
        thumbs.append(thumb)
        photos[key] = {g: statistics(rung(small, g)) for g in GAMMAS}
        ladders[key] = {g: rung(small, g) for g in GAMMAS}
        right[key] = ev.correct_gamma(key, notes)
    camera = [k for k in photos if k.startswith("camera/")]
    others = [k for k in photos if not k.startswith("camera/")]
    exposed = [k for k in photos if right[k] == 1]

    def ladders_right(idx: list[int], w: np.ndarray, b: float, group: list[str]) -> int:
        ok = 0
        for k in group:
            e = {g: abs(photos[k][g][idx] @ w - b) for g in GAMMAS}
            ok += min(e, key=e.get) == right[k]
        return ok

    def table(fit_keys: list[str], title: str) -> None:
        x_all = np.array([photos[k][1] for k in fit_keys])
        rows = []
        for size in range(1, MAX_STATISTICS + 1):
            found = []
            for idx in itertools.combinations(range(len(NAMES)), size):
                w, b, spread = minimax(x_all[:, list(idx)])
                found.append((spread, list(idx), w, b))
            found.sort(key=lambda r: r[0])
            for spread, idx, w, b in found[:SHOWN]:
                terms = " ".join(f"{wi:+.2f}·s({NAMES[i]})" for i, wi in zip(idx, w))
                rows.append(f"| {size} | {terms} {-b:+.2f} | ±{spread:.2f} | "
                            f"{ladders_right(idx, w, b, camera)}/{len(camera)} | "
                            f"{ladders_right(idx, w, b, others)}/{len(others)} |")
        print(f"{title}\n")
        print("| statistics | e = | largest \\|e\\| on the fitted originals | camera/ ladders right "
              "| other corpus ladders right |")
        print("|---:|---|---:|---:|---:|")
        print("\n".join(rows))
        print()

    ours = photo_suite_exposure(ladders)
    del ladders

    def ours_best(k: str) -> float:
        return max(GAMMAS, key=lambda g: ours[k][g])

    def ours_right(group: list[str]) -> str:
        ok = sum(ours_best(k) == right[k] for k in group)
        return f"{ok}/{len(group)}"

    wrong = ", ".join(f"`{k}` (gamma {ours_best(k):g})" for k in photos if ours_best(k) != right[k])

    print("\n## 5. Exposure: what the tones alone can do\n")
    print(f"{len(photos)} photos ({len(camera)} camera/, {len(others)} others), "
          f"{len(exposed)} of them correctly exposed as they are. A tone score ranks every ladder "
          "right only if its estimate e stays within ±0.5 on each of these (see "
          "`benches/eval/exposure_bound.py`). For comparison, photo-suite's `quality.exposure` "
          f"(the binary in PHOTO_SUITE_BIN, on the same 1024-px rungs saved as JPEG q92) ranks "
          f"{ours_right(camera)} camera/ ladders and {ours_right(others)} other ladders right "
          f"(scoring best instead: {wrong}). "
          "The best combinations of one to five statistics:\n")
    table(exposed, f"Fitted on all {len(exposed)} correctly exposed originals (the bound):")
    table([k for k in camera if right[k] == 1],
          "Fitted on the camera/ originals only (tuned to the evaluated ladders):")
    return 0


if __name__ == "__main__":
    sys.exit(main())
