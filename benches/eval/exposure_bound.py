#!/usr/bin/env python3
"""How far a tone-based exposure estimate can go on the brightness ladders, printed as Markdown.

Issue 3 asks the exposure score to rank the gamma 0.5 / 1 / 2 ladder of every camera/ photo with
the correctly exposed rung best. This measures, on the corpus itself and independently of
photo-suite's code, what an estimate built from the tones can do on such ladders.

The estimates. Statistics s(v) = log2(-ln v) of 17 tone quantiles v (0..1): of the luma (1, 5, 10,
25, 50, 75, 90 %) and of its local minima and maxima (5, 25, 50, 75, 95 %; blocks of 1/48 of the
long side), on the photo at 1024 px (the quality rendition's size). A gamma moves a grey value v
to v^gamma and so its s by log2(gamma), one step per rung; on real rungs the statistics move by
about that (less near black and white, and for saturated colours, since the gamma is applied
per channel). An estimate of the correction a photo needs is e = sum(w_i * s_i) - b, weights
summing to 1 (each within +-10); it must rise along every ladder (a darker rung never looks
brighter to it), and the rung it picks is the one whose e is nearest 0. Given that order, the
right rung is picked exactly when a pair of sums has the right sign: the original (gamma 1)
when e(0.5) + e(1) < 0 < e(1) + e(2), the brightest when e(0.5) + e(1) > 0. These are linear in
(w, b), so a linear programme finds the estimate whose worst margin over a set of ladders
(the smallest of those sums, signed so that positive is right, and of the rises between rungs)
is largest, on the real rungs. A best worst margin below 0 means that no such estimate picks
the right rung of every ladder of the set.

Fitted on every ladder of the corpus, that is the bound; fitted on the camera/ ladders only, it
shows what an estimate tuned to the evaluated ladders does on the others. Beside it, what
photo-suite's own `quality.exposure` does on the same rungs.

Photos: every non-broken corpus photo at least 64 px a side that Pillow (pillow-heif) decodes,
upright; a picture in several files (eval.py's SAME_PICTURE) counts once. The correct rung is
eval.py's: the original, except where MANIFEST.tsv notes it under- or over-exposed. The ladders
are made in memory from the photo at 1024 px (eval.py's section 3 makes them at full size), and
photo-suite scores them saved as JPEG q92. A rung counts as picked only when strictly best.

Needs numpy, Pillow, scipy, and what eval.py imports (benches/eval/setup.sh installs them all).
Same environment as eval.py (PHOTO_SUITE_BIN, PHOTO_SUITE_PHOTOS).
"""
from __future__ import annotations

import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.optimize import linprog

import eval as ev  # eval.py beside this file: corpus, manifest, upright decoding, ingest

GAMMAS = ev.GAMMAS  # (0.5, 1, 2): darkest last
LUMA_QUANTILES = (1, 5, 10, 25, 50, 75, 90)
LOCAL_QUANTILES = (5, 25, 50, 75, 95)
WORK_SIDE = 1024
MIN_SIDE = 64
MAX_WEIGHT = 10.0
SUBSET_SIZES = (1, 2, 3)  # every subset of these sizes is tried; then all 17 at once
SHOWN = 2  # best subsets shown per size

NAMES = ([f"luma p{q}" for q in LUMA_QUANTILES] + [f"local-min p{q}" for q in LOCAL_QUANTILES]
         + [f"local-max p{q}" for q in LOCAL_QUANTILES])


def log(msg: str) -> None:
    print(f"exposure_bound: {msg}", file=sys.stderr, flush=True)


def luma(rgb: np.ndarray) -> np.ndarray:
    return 0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]


def block_reduce(y: np.ndarray, k: int, fn) -> np.ndarray:
    h, w = (y.shape[0] // k) * k, (y.shape[1] // k) * k
    return fn(fn(y[:h, :w].reshape(h // k, k, w // k, k), axis=3), axis=1)


def statistics(rgb8: np.ndarray) -> np.ndarray:
    """s = log2(-ln v) of each tone quantile v (0..1) of the photo: luma, local minima, maxima."""
    y = np.clip(luma(rgb8.astype(np.float64)) / 255.0, 0.5 / 255, 254.5 / 255)
    k = max(2, max(y.shape) // 48)
    v = np.concatenate([
        np.percentile(y, LUMA_QUANTILES),
        np.percentile(block_reduce(y, k, np.min), LOCAL_QUANTILES),
        np.percentile(block_reduce(y, k, np.max), LOCAL_QUANTILES),
    ])
    return np.log2(-np.log(v))


class Ladder:
    """One photo's rungs: their statistics (rows in GAMMAS order) and the correct rung."""

    def __init__(self, key: str, stats: np.ndarray, right: float):
        self.key, self.stats, self.right = key, stats, right

    def margins(self) -> list[tuple[np.ndarray, float]]:
        """The rows (a, c) of the margins a·w + c·b: positive when the estimate is right."""
        lo, mid, hi = self.stats
        rows = [(mid - lo, 0.0), (hi - mid, 0.0)]  # it rises along the ladder
        if self.right == 1:
            rows += [(-(lo + mid), 2.0), (mid + hi, -2.0)]
        elif self.right == GAMMAS[0]:
            rows += [(lo + mid, -2.0)]
        else:
            rows += [(-(mid + hi), 2.0)]
        return rows

    def picked(self, e: np.ndarray) -> float | None:
        """The rung whose estimate is strictly nearest 0, if one is."""
        d = np.abs(e)
        i = int(np.argmin(d))
        return GAMMAS[i] if (d == d[i]).sum() == 1 else None


def fit(ladders: list[Ladder], idx: list[int]) -> tuple[np.ndarray, float, float]:
    """The estimate over statistics `idx` with the largest worst margin: (w, b, margin)."""
    n = len(idx)
    rows = [(a[idx], c) for lad in ladders for a, c in lad.margins()]
    # variables w (n), b, m; maximise m subject to m - (a·w + c·b) <= 0
    a_ub = np.array([np.concatenate([-a, [-c, 1.0]]) for a, c in rows])
    res = linprog(c=[0.0] * (n + 1) + [-1.0], A_ub=a_ub, b_ub=np.zeros(len(rows)),
                  A_eq=[[1.0] * n + [0.0, 0.0]], b_eq=[1.0],
                  bounds=[(-MAX_WEIGHT, MAX_WEIGHT)] * n + [(None, None), (None, None)],
                  method="highs")
    if not res.success:
        raise RuntimeError(f"linear programme failed: {res.message}")
    return res.x[:n], res.x[n], res.x[n + 1]


def photo_suite_exposure(rungs: dict[str, list[np.ndarray]]) -> dict[str, list[float]]:
    """photo-suite's `quality.exposure` of every rung: one `photo-suite ingest` over them."""
    def name(key: str, g: float) -> str:
        return f"{key.replace('/', '__')}__gamma{g}.jpg"

    with tempfile.TemporaryDirectory(prefix="exposure-bound-") as tmp:
        src, out = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        for key, images in rungs.items():
            for g, rgb in zip(GAMMAS, images):
                Image.fromarray(rgb).save(src / name(key, g), quality=92)
        log(f"photo-suite ingest over {len(rungs) * len(GAMMAS)} rungs")
        docs, failures = ev.ingest(src, out)
    if failures:
        raise RuntimeError(f"photo-suite failed on {sorted(failures)}")
    return {key: [docs[name(key, g)]["quality"]["exposure"] for g in GAMMAS] for key in rungs}


def main() -> int:
    started = time.monotonic()
    if not ev.BIN.exists():
        log(f"no photo-suite binary at {ev.BIN} (cargo build --release, or set PHOTO_SUITE_BIN)")
        return 1
    if not (ev.PHOTOS / "MANIFEST.tsv").exists():
        log(f"no MANIFEST.tsv in {ev.PHOTOS} (set PHOTO_SUITE_PHOTOS)")
        return 1
    notes = ev.read_manifest()
    ladders: list[Ladder] = []
    rungs: dict[str, list[np.ndarray]] = {}
    left_out: list[str] = []
    groups_seen: set[int] = set()
    for key in sorted(k for k in notes if not k.startswith("broken/")):
        group = ev.SAME_GROUP.get(key)
        if group in groups_seen:
            left_out.append(f"`{key}` (a picture counted once)")
            continue
        try:
            rgb = ev.load_upright(ev.PHOTOS / key)
        except Exception as exc:  # noqa: BLE001 - reported, the photo is left out
            left_out.append(f"`{key}` (not decoded: {type(exc).__name__})")
            continue
        if min(rgb.shape[:2]) < MIN_SIDE:
            left_out.append(f"`{key}` (under {MIN_SIDE} px)")
            continue
        if group is not None:
            groups_seen.add(group)
        im = Image.fromarray(rgb)
        im.thumbnail((WORK_SIDE, WORK_SIDE), Image.LANCZOS)
        images = [ev.gamma_rung(np.asarray(im), g) for g in GAMMAS]
        ladders.append(Ladder(key, np.array([statistics(x) for x in images]),
                              ev.correct_gamma(key, notes)))
        rungs[key] = images
    ours = photo_suite_exposure(rungs)
    del rungs

    camera = [lad for lad in ladders if lad.key.startswith("camera/")]
    others = [lad for lad in ladders if not lad.key.startswith("camera/")]

    def count(group: list[Ladder], pick) -> str:
        return f"{sum(pick(lad) == lad.right for lad in group)}/{len(group)}"

    def ours_pick(lad: Ladder) -> float | None:
        return lad.picked(1.0 - np.array(ours[lad.key]))  # scores are in 0..1: highest wins

    def table(fitted: list[Ladder], title: str) -> None:
        candidates = []
        for size in SUBSET_SIZES:
            found = []
            for idx in itertools.combinations(range(len(NAMES)), size):
                w, b, margin = fit(fitted, list(idx))
                found.append((margin, list(idx), w, b))
            found.sort(key=lambda r: -r[0])
            candidates += found[:SHOWN]
        every = list(range(len(NAMES)))
        w, b, margin = fit(fitted, every)
        candidates.append((margin, every, w, b))
        print(f"{title}\n")
        print("| statistics | e = | worst margin on the fitted ladders | camera/ ladders right "
              "| other ladders right |")
        print("|---:|---|---:|---:|---:|")
        for margin, idx, w, b in candidates:
            terms = ("all 17, each weight within ±10" if len(idx) == len(NAMES) else
                     " ".join(f"{wi:+.2f}·s({NAMES[i]})" for i, wi in zip(idx, w)) + f" {-b:+.2f}")

            def pick(lad: Ladder) -> float | None:
                return lad.picked(lad.stats[:, idx] @ w - b)

            print(f"| {len(idx)} | {terms} | {margin:+.3f} | {count(camera, pick)} | "
                  f"{count(others, pick)} |")
        print()

    wrong = ", ".join(f"`{lad.key}` ({'a tie' if p is None else f'gamma {p:g}'})"
                      for lad in ladders if (p := ours_pick(lad)) != lad.right)
    print("\n## 5. Exposure: what a tone-based estimate can do\n")
    print(f"{len(ladders)} ladders ({len(camera)} camera/, {len(others)} others; "
          f"`benches/eval/exposure_bound.py`, which says how they are made and fitted). Left "
          f"out: {', '.join(left_out) or 'none'}. photo-suite's `quality.exposure` on these "
          f"rungs picks the right one on {count(camera, ours_pick)} camera/ ladders and "
          f"{count(others, ours_pick)} others (instead: {wrong or 'none'}). The best "
          "estimates e = Σ w·s(statistic) − b (weights summing to 1), by their worst margin "
          "(below 0: some ladder of the fitted set is wrong, whatever the weights):\n")
    table(ladders, f"Fitted on all {len(ladders)} ladders (the bound):")
    table(camera, f"Fitted on the {len(camera)} camera/ ladders only:")
    print(f"Run time: {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as exc:
        log(str(exc))
        sys.exit(1)
