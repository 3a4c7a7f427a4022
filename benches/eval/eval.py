#!/usr/bin/env python3
"""Evaluation of photo-suite's analysis against well-known anchors, printed as Markdown.

What it measures (details in benches/eval/README.md)
    1. Faces: per faces/ photo, true count vs found (count-based: found = min(detected, true));
       total found/true over faces/ (target >= 90%); false detections over the whole corpus
       (per photo max(0, detected - true)). Anchor: OpenCV's Haar cascade
       haarcascade_frontalface_default.xml (from cv2.data), same photos, same counting.
    2. Crops: on every photo with true faces, the face-kept rate (share of the 7 crops that contain
       every reference face box whole) for photo-suite's `crops`, smartcrop.js (smartcrop-sharp)
       and libvips smartcrop(interesting=attention). Reference boxes = photo-suite's own `faces`.
       Plus, for photo-suite: largest ratio error and whether every crop lies inside the image.
    3. Quality: blur ladder (Gaussian sigma 0, 1, 2, 4, JPEG q92) and brightness ladder (gamma 0.5,
       1, 2) on every camera/ photo; photo-suite quality.sharpness / quality.exposure against
       OpenCV Laplacian variance and BRISQUE; Spearman(photo-suite sharpness, Laplacian variance).
    4. Near duplicates: variants (q60, 50% size, 5% crop, +10% brightness) of every non-broken
       photo against the original (`signature` distance vs threshold 60), and the closest pairs
       of different originals.

Everything is upright: the photo is decoded with Pillow (pillow-heif for HEIC), EXIF-transposed,
then the anchors and the variants see that upright image. photo-suite is called in batch
(`photo-suite ingest` over a folder) and its analysis keys are mapped back to the files.

Environment
    PHOTO_SUITE_BIN     photo-suite binary (default target/release/photo-suite, repo-relative)
    PHOTO_SUITE_PHOTOS  photo corpus (default ../shared/photos, repo-relative)
    BRISQUE_MODEL_DIR   folder with brisque_model_live.yml and brisque_range_live.yml
                        (default /usr/share/opencv4/quality, from Debian's opencv-data)
    EVAL_THREADS        photo-suite ingest --threads (default 1: the machine is shared)
    EVAL_KEEP           if set, the temp folder with the variants and outputs is kept

Exit status: 0 every target met; 1 a target failed or a tool errored; 3 no target failed but
some analysis field is missing from this build (those figures are not produced yet).
"""
from __future__ import annotations

import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

os.environ.setdefault("VIPS_CONCURRENCY", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402

try:
    import pillow_heif  # noqa: E402

    pillow_heif.register_heif_opener()
except ImportError:  # HEIC photos are then skipped by the anchors (said in the output)
    pillow_heif = None
import cv2  # noqa: E402
import pyvips  # noqa: E402

cv2.setNumThreads(1)
Image.MAX_IMAGE_PIXELS = 120_000_000


def repo_path(value: str | None, default: str) -> Path:
    p = Path(value or default)
    return p if p.is_absolute() else (REPO / p).resolve()


BIN = repo_path(os.environ.get("PHOTO_SUITE_BIN"), "target/release/photo-suite")
PHOTOS = repo_path(os.environ.get("PHOTO_SUITE_PHOTOS"), "../shared/photos")
BRISQUE_DIR = Path(os.environ.get("BRISQUE_MODEL_DIR", "/usr/share/opencv4/quality"))
THREADS = os.environ.get("EVAL_THREADS", "1")

RATIOS = {"1:1": (1, 1), "4:3": (4, 3), "3:4": (3, 4), "3:2": (3, 2), "2:3": (2, 3),
          "16:9": (16, 9), "9:16": (9, 16)}
BLUR_SIGMAS = (0, 1, 2, 4)
GAMMAS = (0.5, 1, 2)
DUP_THRESHOLD = 60
PAIR_MIN_SIDE = 16  # pictures smaller than this (the 1x1 PNGs) hold no picture to tell apart
FACES_TARGET = 0.90
HAAR_MAX_SIDE = 1024  # Haar runs on the upright photo downscaled to this longest side (never up)

# True face counts of the photos outside faces/ (faces/ photos take FACES=N from MANIFEST.tsv),
# counted by eye: true_faces.tsv beside this script, shared with the Rust tests
# (test-support's true_faces(), read by imaging-core/tests/faces.rs).
# A photo not listed has 0.
def read_true_faces() -> dict[str, int]:
    counts = {}
    with open(Path(__file__).with_name("true_faces.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or line.startswith("photo\t") or not line.strip():
                continue
            fields = [x.strip() for x in line.split("\t")]
            if len(fields) < 2 or not fields[1].isdigit():
                raise SystemExit(f"eval: true_faces.tsv: no face count in {line!r}")
            if fields[0] in counts:
                raise SystemExit(f"eval: true_faces.tsv: {fields[0]} is counted twice")
            counts[fields[0]] = int(fields[1])
    return counts


TRUE_FACES = read_true_faces()

# Groups of corpus photos that show the same picture (same scene, re-encoded, rotated, cropped
# or converted): their pairs are expected near duplicates, so they are reported apart and left
# out of "different originals".
SAME_PICTURE = [
    [f"exif-orientation/Landscape_{i}.jpg" for i in range(9)],  # one photo, 9 orientations
    [f"exif-orientation/Portrait_{i}.jpg" for i in range(9)],  # one photo, 9 orientations
    ["faces/curie_portrait.jpg", "faces/curie_portrait_orientation6.jpg"],  # grey + text overlay
    ["faces/hopper.jpg", "formats/jpeg_grayscale_hopper.jpg", "formats/tiff_rgb_hopper.tif",
     "broken/png_data_with_jpg_extension.jpg"],  # Pillow's hopper test image in 4 files
    ["formats/jpeg_cmyk_swop_icc.jpg", "formats/jpeg_cmyk_no_icc.jpg"],  # with / without ICC
    ["formats/jpeg_icc_a98_small.jpg", "formats/png_16bit_rgb_sample.png"],  # libvips sample
    ["formats/jpeg_panorama_pixel.jpg", "formats/jpeg_panorama_strip_10to1.jpg"],  # strip crop
]
SAME_GROUP = {k: i for i, group in enumerate(SAME_PICTURE) for k in group}


class Missing(Exception):
    """An analysis field this build of photo-suite does not produce (yet)."""


def log(msg: str) -> None:
    print(f"eval: {msg}", file=sys.stderr, flush=True)


def need(doc: dict, name: str):
    if name not in doc or doc[name] is None:
        raise Missing(f"field {name} missing: not yet produced by this build")
    return doc[name]


MISSING: list[str] = []
FAILED: list[str] = []


def note_missing(section: str, exc: Missing) -> None:
    msg = f"{section}: {exc}"
    if msg not in MISSING:
        MISSING.append(msg)
    print(f"\n> **{exc}** ({section}: photo-suite's figures are left out)\n")


def target(ok: bool, text: str) -> None:
    print(f"- {'PASS' if ok else 'FAIL'} {text}\n")
    if not ok:
        FAILED.append(text)


# ---------------------------------------------------------------------------------------------
# The corpus and photo-suite


def read_manifest() -> dict[str, str]:
    notes = {}
    with open(PHOTOS / "MANIFEST.tsv", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = header.index("notes")
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) > col and not parts[0].startswith("licenses/"):
                notes[parts[0]] = parts[col]
    return notes


def correct_gamma(key: str, notes: dict[str, str]) -> float:
    """The rung of a brightness ladder that is correctly exposed: the original (gamma 1), unless
    the corpus's MANIFEST.tsv notes call the original underexposed (then the brightest rung,
    gamma 0.5, is the better-exposed photo) or overexposed (the darkest, gamma 2)."""
    note = notes.get(key, "").lower()
    if "underexposed" in note:
        return 0.5
    if "overexposed" in note:
        return 2
    return 1


def true_faces(key: str, notes: dict[str, str]) -> int:
    if key.startswith("faces/"):
        m = re.search(r"FACES=(\d+)", notes.get(key, ""))
        if not m:
            raise SystemExit(f"eval: {key} has no FACES=N in MANIFEST.tsv")
        return int(m.group(1))
    return TRUE_FACES.get(key, 0)


def ingest(input_dir: Path, out_dir: Path) -> tuple[dict[str, dict], dict[str, str]]:
    """One `photo-suite ingest` run; returns {key: analysis} and {key: failure kind}."""
    cmd = [str(BIN), "ingest", str(input_dir), "--out", str(out_dir), "--threads", THREADS]
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode not in (0, 2):
        raise SystemExit(f"eval: {' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    docs = {}
    root = out_dir / "analysis"
    for p in root.rglob("*.json"):
        key = p.relative_to(root).as_posix()[: -len(".json")]
        docs[key] = json.loads(p.read_text())
    failures = {}
    fp = out_dir / "failures.jsonl"
    if fp.exists():
        for line in fp.read_text().splitlines():
            if line.strip():
                m = json.loads(line)
                failures[m["key"]] = m["kind"]
    return docs, failures


# ---------------------------------------------------------------------------------------------
# Decoding (upright) and geometry


def load_upright(path: Path) -> np.ndarray:
    """The photo as upright 8-bit RGB (EXIF orientation applied; alpha flattened on white)."""
    with Image.open(path) as im:
        im.seek(0)
        im = ImageOps.exif_transpose(im)
        if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            a = np.asarray(im, dtype=np.float64)
            hi = 65535.0 if im.mode.startswith("I;16") or a.max() > 255 else 255.0
            a = np.clip(a / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
            return np.repeat(a[:, :, None], 3, axis=2)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, im)
        return np.asarray(im.convert("RGB"))


def gamma_rung(rgb: np.ndarray, gamma: float) -> np.ndarray:
    """A rung of the brightness ladder: gamma on the values normalised to 0..1, per channel."""
    if gamma == 1:
        return rgb
    return np.clip(np.power(rgb / 255.0, gamma) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def largest_crop(w: int, h: int, rw: int, rh: int) -> tuple[int, int]:
    """The largest crop of ratio rw:rh that fits a w x h image."""
    if w * rh >= h * rw:  # image wider than the ratio: full height
        return max(1, min(w, round(h * rw / rh))), h
    return w, max(1, min(h, round(w * rh / rw)))


def box(d: dict) -> tuple[float, float, float, float]:
    return float(d["x"]), float(d["y"]), float(d["width"]), float(d["height"])


def clip_box(b, w, h):
    x0, y0 = max(0.0, b[0]), max(0.0, b[1])
    x1, y1 = min(float(w), b[0] + b[2]), min(float(h), b[1] + b[3])
    return x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0)


def contains(crop, face, tol: float = 0.5) -> bool:
    cx, cy, cw, ch = crop
    fx, fy, fw, fh = face
    return (fx >= cx - tol and fy >= cy - tol and fx + fw <= cx + cw + tol
            and fy + fh <= cy + ch + tol)


def feasible(faces, cw, ch) -> bool:
    """Whether a cw x ch crop can hold every face box at all (their union fits)."""
    if not faces:
        return True
    x0 = min(f[0] for f in faces)
    y0 = min(f[1] for f in faces)
    x1 = max(f[0] + f[2] for f in faces)
    y1 = max(f[1] + f[3] for f in faces)
    return x1 - x0 <= cw + 0.5 and y1 - y0 <= ch + 0.5


# ---------------------------------------------------------------------------------------------
# Anchors


class Haar:
    def __init__(self):
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise SystemExit(f"eval: cannot load {path}")

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
        h, w = rgb.shape[:2]
        scale = min(1.0, HAAR_MAX_SIDE / max(w, h))
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))),
                              interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5)
        return [(x / scale, y / scale, fw / scale, fh / scale) for (x, y, fw, fh) in found]


VIPS_OFFSET_METHOD = None


def vips_attention(rgb: np.ndarray, cw: int, ch: int) -> tuple[int, int, int, int]:
    """libvips smartcrop(attention); the offset is read from the result's xoffset/yoffset
    (libvips 8.18 sets them to -left, -top) and checked against the pixels."""
    global VIPS_OFFSET_METHOD
    img = pyvips.Image.new_from_array(rgb)
    out, opts = img.smartcrop(cw, ch, interesting="attention", attention_x=True, attention_y=True)
    crop = out.numpy()
    h, w = rgb.shape[:2]
    candidates = [("-xoffset/-yoffset", -out.xoffset, -out.yoffset),
                  ("xoffset/yoffset", out.xoffset, out.yoffset),
                  ("attention_x/y centred", min(max(0, opts["attention_x"] - cw // 2), w - cw),
                   min(max(0, opts["attention_y"] - ch // 2), h - ch))]
    for name, x, y in candidates:
        if 0 <= x <= w - cw and 0 <= y <= h - ch and np.array_equal(rgb[y:y + ch, x:x + cw], crop):
            VIPS_OFFSET_METHOD = VIPS_OFFSET_METHOD or name
            return x, y, cw, ch
    raise RuntimeError("cannot locate libvips' attention crop in the source image")


def smartcrop_js(jobs: list[dict]) -> dict:
    if not jobs:
        return {}
    env = dict(os.environ, UV_THREADPOOL_SIZE="1", VIPS_CONCURRENCY="1")
    proc = subprocess.run(["node", str(HERE / "smartcrop_runner.js")], input=json.dumps(jobs),
                          capture_output=True, text=True, cwd=HERE, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"eval: smartcrop_runner.js failed:\n{proc.stderr[-2000:]}")
    results = {}
    for line in proc.stdout.splitlines():
        r = json.loads(line)
        results[tuple(r["id"])] = r
    return results


def brisque(bgr: np.ndarray) -> float:
    model = str(BRISQUE_DIR / "brisque_model_live.yml")
    rng = str(BRISQUE_DIR / "brisque_range_live.yml")
    return float(cv2.quality.QualityBRISQUE_compute(bgr, model, rng)[0])


def laplacian_var(bgr: np.ndarray) -> float:
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


# ---------------------------------------------------------------------------------------------
# Signatures


def parse_signature(sig) -> tuple[int, int]:
    if not isinstance(sig, str) or not re.fullmatch(r"[0-9a-f]{48}", sig):
        raise ValueError(f"signature {sig!r} is not 48 lowercase hex digits")
    return int(sig[:16], 16), int(sig[16:], 16)


def distance(a: str, b: str) -> int:
    pa, da = parse_signature(a)
    pb, db = parse_signature(b)
    return 2 * bin(pa ^ pb).count("1") + bin(da ^ db).count("1")


assert distance("0" * 48, "0" * 48) == 0
assert distance("f" * 48, "0" * 48) == 256
assert distance("8" + "0" * 15 + "0" * 31 + "3", "0" * 48) == 2 + 2


# ---------------------------------------------------------------------------------------------
# Statistics and printing


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(x: list[float], y: list[float]) -> float:
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    sy = math.sqrt(sum((b - my) ** 2 for b in ry))
    return cov / (sx * sy) if sx and sy else float("nan")


def pct(n: float, d: float) -> str:
    return f"{100.0 * n / d:.1f}%" if d else "n/a"


def table(header: list[str], rows: list[list], align: str | None = None) -> None:
    print("| " + " | ".join(header) + " |")
    align = align or ("l" + "r" * (len(header) - 1))
    print("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()


def cmd_version(cmd: list[str], cwd=None) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unavailable"


def machine_and_versions() -> None:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(open("/proc/meminfo").readline().split()[1])
        mem = f", {kb / 1048576:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    print(f"**Machine:** {cpu}, {os.cpu_count()} cores{mem}, {platform.system()} "
          f"{platform.release()}; measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
          f"photo-suite ingest --threads {THREADS}; every anchor single-threaded.\n")
    sc = cmd_version(["node", "-p", "require('smartcrop/package.json').version + ' / smartcrop-sharp ' "
                      "+ require('smartcrop-sharp/package.json').version + ' / sharp ' "
                      "+ require('sharp').versions.sharp + ' (libvips ' + require('sharp').versions.vips + ')'"],
                     cwd=HERE)
    opencv_data = cmd_version(["dpkg-query", "-W", "-f=${Version}", "opencv-data"])
    rows = [
        ["photo-suite", f"{cmd_version([str(BIN), '--version'])} (`{BIN}`)"],
        ["OpenCV (opencv-contrib-python-headless)", f"{cv2.__version__}: Haar cascade, Laplacian, BRISQUE"],
        ["BRISQUE model (Debian opencv-data)", f"{opencv_data}: `{BRISQUE_DIR}`"],
        ["smartcrop.js", sc],
        ["libvips (pyvips)", f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} "
                             f"(pyvips {pyvips.__version__})"],
        ["Pillow / pillow-heif / numpy", f"{Image.__version__} / "
                                         f"{getattr(pillow_heif, '__version__', 'not installed')} / {np.__version__}"],
        ["Python / Node.js", f"{platform.python_version()} / {cmd_version(['node', '--version'])}"],
    ]
    table(["Tool", "Version"], rows, "ll")


# ---------------------------------------------------------------------------------------------
# The run


def main() -> int:
    t0 = time.monotonic()
    if not BIN.exists():
        print(f"eval: photo-suite binary {BIN} not found (set PHOTO_SUITE_BIN or build it: "
              "cargo build --release)", file=sys.stderr)
        return 1
    if not (PHOTOS / "MANIFEST.tsv").exists():
        print(f"eval: no MANIFEST.tsv in {PHOTOS} (set PHOTO_SUITE_PHOTOS)", file=sys.stderr)
        return 1
    for f in ("brisque_model_live.yml", "brisque_range_live.yml"):
        if not (BRISQUE_DIR / f).exists():
            print(f"eval: {BRISQUE_DIR / f} missing (apt-get install opencv-data, or set "
                  "BRISQUE_MODEL_DIR)", file=sys.stderr)
            return 1

    print("# photo-suite evaluation\n")
    machine_and_versions()

    notes = read_manifest()
    unknown = sorted(set(TRUE_FACES) - set(notes))
    if unknown:
        print(f"eval: true_faces.tsv counts photos not in MANIFEST.tsv: {unknown}", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="photo-suite-eval-"))
    try:
        return run(tmp, notes, t0)
    finally:
        if os.environ.get("EVAL_KEEP"):
            print(f"(temp folder kept: {tmp})", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(tmp: Path, notes: dict[str, str], t0: float) -> int:
    # photo-suite on the corpus, once.
    log(f"photo-suite ingest {PHOTOS}")
    corpus, corpus_failed = ingest(PHOTOS, tmp / "corpus")
    keys = sorted(k for k in corpus if k in notes)
    print(f"Corpus: `{PHOTOS}`, {len(notes)} files in MANIFEST.tsv; photo-suite analysed "
          f"{len(keys)}, rejected {sum(1 for k in corpus_failed if k in notes)} "
          f"(broken/ is meant to fail).\n")

    haar = Haar()
    variants = tmp / "variants"
    (variants / "quality").mkdir(parents=True)
    (variants / "dupes").mkdir(parents=True)
    upright_dir = tmp / "upright"
    upright_dir.mkdir()

    haar_boxes: dict[str, list] = {}
    sizes: dict[str, tuple[int, int]] = {}
    anchor_skipped: dict[str, str] = {}
    vips_crops: dict[tuple[str, str], tuple] = {}
    sc_jobs: list[dict] = []
    quality_keys: list[str] = []
    dup_variants: dict[str, list[tuple[str, str]]] = {}
    face_keys = [k for k in keys if true_faces(k, notes) > 0]

    # One decoding pass over the corpus: Haar, the anchors' crops, and every variant.
    log(f"decoding {len(keys)} photos: Haar, libvips attention crops, variants")
    for key in keys:
        try:
            rgb = load_upright(PHOTOS / key)
        except Exception as exc:  # noqa: BLE001 - reported, the photo is skipped by the anchors
            anchor_skipped[key] = f"{type(exc).__name__}: {exc}"
            continue
        h, w = rgb.shape[:2]
        sizes[key] = (w, h)
        haar_boxes[key] = haar.detect(rgb)
        safe = key.replace("/", "__")

        if key in face_keys:
            up = upright_dir / f"{safe}.png"
            Image.fromarray(rgb).save(up, compress_level=1)
            for ratio, (rw, rh) in RATIOS.items():
                cw, ch = largest_crop(w, h, rw, rh)
                sc_jobs.append({"id": [key, ratio], "file": str(up), "width": cw, "height": ch})
                vips_crops[(key, ratio)] = vips_attention(rgb, cw, ch)

        if key.startswith("camera/"):
            quality_keys.append(key)
            for sigma in BLUR_SIGMAS:
                img = cv2.GaussianBlur(rgb, (0, 0), sigmaX=sigma) if sigma else rgb
                Image.fromarray(img).save(variants / "quality" / f"{safe}__blur{sigma}.jpg", quality=92)
            for g in GAMMAS:
                if g == 1:
                    continue  # gamma 1 is the blur-0 variant
                img = gamma_rung(rgb, g)
                Image.fromarray(img).save(variants / "quality" / f"{safe}__gamma{g}.jpg", quality=92)

        if not key.startswith("broken/"):
            im = Image.fromarray(rgb)
            made = []
            im.save(variants / "dupes" / f"{safe}__q60.jpg", quality=60)
            made.append(("q60", f"dupes/{safe}__q60.jpg"))
            im.resize((max(1, round(w / 2)), max(1, round(h / 2))), Image.LANCZOS).save(
                variants / "dupes" / f"{safe}__half.jpg", quality=92)
            made.append(("50% size", f"dupes/{safe}__half.jpg"))
            dx, dy = int(w * 0.025), int(h * 0.025)
            im.crop((dx, dy, w - dx, h - dy)).save(variants / "dupes" / f"{safe}__crop5.jpg", quality=92)
            made.append(("5% crop", f"dupes/{safe}__crop5.jpg"))
            ImageEnhance.Brightness(im).enhance(1.1).save(
                variants / "dupes" / f"{safe}__bright10.jpg", quality=92)
            made.append(("+10% brightness", f"dupes/{safe}__bright10.jpg"))
            dup_variants[key] = made
        del rgb

    log(f"smartcrop.js on {len(sc_jobs)} crops")
    sc_results = smartcrop_js(sc_jobs)
    log("photo-suite ingest of the variants")
    var_docs, var_failed = ingest(variants, tmp / "variants-out")
    log("Laplacian variance and BRISQUE on the quality ladders, then the tables")
    if var_failed:
        print(f"> photo-suite rejected {len(var_failed)} variant(s): "
              f"{', '.join(sorted(var_failed)[:5])}\n")
    if anchor_skipped:
        print("> Not decoded for the anchors (left out of their figures): "
              + "; ".join(f"`{k}` ({v})" for k, v in anchor_skipped.items()) + "\n")

    section_faces(keys, notes, corpus, haar_boxes)
    section_crops(face_keys, notes, corpus, sizes, haar_boxes, sc_results, vips_crops)
    section_quality(quality_keys, var_docs, variants, notes)
    section_dupes(keys, corpus, dup_variants, var_docs)

    print("## Summary\n")
    for text in FAILED:
        print(f"- FAIL {text}")
    for text in MISSING:
        print(f"- NOT YET MEASURED {text}")
    if not FAILED and not MISSING:
        print("- every target met")
    print(f"\nRun time: {time.monotonic() - t0:.0f} s (setup excluded).")
    if FAILED:
        return 1
    return 3 if MISSING else 0


def section_faces(keys, notes, corpus, haar_boxes) -> None:
    print("## 1. Faces\n")
    print("Count-based: found = min(detected, true) per photo; false = max(0, detected - true), "
          "summed over every photo photo-suite analyses (true counts outside faces/: "
          "`benches/eval/true_faces.tsv`, 0 when not listed). Anchor: OpenCV Haar cascade "
          "`haarcascade_frontalface_default.xml` (cv2.data), on the upright photo downscaled to "
          f"{HAAR_MAX_SIDE} px longest side, histogram-equalised, scaleFactor 1.1, minNeighbors 5.\n")
    ps: dict[str, int] | None = {}
    try:
        for k in keys:
            faces = need(corpus[k], "faces")
            ps[k] = len(faces)
    except Missing as exc:
        note_missing("faces", exc)
        ps = None

    rows = []
    tot = {"true": 0, "ps": 0, "haar": 0}
    for k in keys:
        if not k.startswith("faces/"):
            continue
        t = true_faces(k, notes)
        hd = len(haar_boxes.get(k, []))
        tot["true"] += t
        tot["haar"] += min(hd, t)
        cells = [f"`{k}`", t]
        if ps is not None:
            tot["ps"] += min(ps[k], t)
            cells += [f"{min(ps[k], t)} ({ps[k]} detected)"]
        else:
            cells += ["—"]
        cells += [f"{min(hd, t)} ({hd} detected)"]
        rows.append(cells)
    table(["Photo", "True", "photo-suite found", "Haar found"], rows)

    # every photo with faces, and the false detections over the whole corpus
    def false_total(detected: dict[str, int]) -> tuple[int, list[str]]:
        total, where = 0, []
        for k in keys:
            if k not in detected:
                continue
            extra = max(0, detected[k] - true_faces(k, notes))
            if extra:
                total += extra
                where.append(f"{k.split('/', 1)[1]} +{extra}")
        return total, where

    haar_counts = {k: len(v) for k, v in haar_boxes.items()}
    all_true = sum(true_faces(k, notes) for k in keys if k in haar_counts)
    haar_all = sum(min(haar_counts[k], true_faces(k, notes)) for k in keys if k in haar_counts)
    hf, hwhere = false_total(haar_counts)
    rows = []
    if ps is not None:
        pf, pwhere = false_total(ps)
        ps_all = sum(min(ps[k], true_faces(k, notes)) for k in keys if k in haar_counts)
        rows.append(["**photo-suite**", f"{tot['ps']}/{tot['true']} = {pct(tot['ps'], tot['true'])}",
                     f"{ps_all}/{all_true} = {pct(ps_all, all_true)}", pf,
                     ", ".join(pwhere) or "none"])
    rows.append(["OpenCV Haar", f"{tot['haar']}/{tot['true']} = {pct(tot['haar'], tot['true'])}",
                 f"{haar_all}/{all_true} = {pct(haar_all, all_true)}", hf, ", ".join(hwhere) or "none"])
    table(["Detector", "Found, faces/", "Found, whole corpus", "False detections (corpus)",
           "Where"], rows, "lrrrl")
    if ps is not None:
        target(tot["ps"] >= FACES_TARGET * tot["true"],
               f"faces: photo-suite finds {pct(tot['ps'], tot['true'])} of the faces in faces/ "
               f"(target >= {FACES_TARGET:.0%})")


def section_crops(face_keys, notes, corpus, sizes, haar_boxes, sc_results, vips_crops) -> None:
    print("## 2. Crops\n")
    print("On every photo with true faces: the largest crop of each of the 7 ratios (1:1, 4:3, "
          "3:4, 3:2, 2:3, 16:9, 9:16); a crop keeps the faces when it contains every reference "
          "face box whole (boxes clipped to the image, 0.5 px tolerance). **Reference boxes: "
          "photo-suite's own detected `faces`** (a photo where it found none is left out). "
          "smartcrop.js: smartcrop-sharp asked for the largest crop of the ratio with "
          "`minScale: 1.0`; libvips: `smartcrop(w, h, interesting='attention')`, the offset read "
          "from the result and checked against the pixels. Everything on the upright photo.\n")
    reference = "photo-suite"
    refs: dict[str, list] = {}
    ps_crops: dict[str, dict] | None = {}
    try:
        for k in face_keys:
            refs[k] = [box(f) for f in need(corpus[k], "faces")]
    except Missing as exc:
        note_missing("crops (reference faces)", exc)
        reference = "Haar"
        refs = {k: list(haar_boxes.get(k, [])) for k in face_keys}
        print("> Provisional, so the anchors' part of this section still runs: the reference "
              "boxes below are **OpenCV Haar's** detections, not photo-suite's. Rerun when "
              "`faces` lands.\n")
    try:
        for k in face_keys:
            ps_crops[k] = need(corpus[k], "crops")
    except Missing as exc:
        note_missing("crops", exc)
        ps_crops = None

    rows = []
    kept = {"ps": 0, "sc": 0, "vips": 0}
    n = feas = 0
    skipped = []
    for k in face_keys:
        if k not in sizes:
            skipped.append(f"{k} (anchors could not decode it)")
            continue
        w, h = sizes[k]
        faces = [clip_box(b, w, h) for b in refs.get(k, [])]
        faces = [f for f in faces if f[2] > 0 and f[3] > 0]
        if not faces:
            skipped.append(f"{k} ({reference} found no face)")
            continue
        row_k = {"ps": 0, "sc": 0, "vips": 0}
        for ratio, (rw, rh) in RATIOS.items():
            cw, ch = largest_crop(w, h, rw, rh)
            n += 1
            feas += feasible(faces, cw, ch)
            if ps_crops is not None:
                c = ps_crops[k].get(ratio)
                if c is not None and all(contains(box(c), f) for f in faces):
                    row_k["ps"] += 1
            r = sc_results.get((k, ratio))
            if r and "error" not in r and all(contains(box(r), f) for f in faces):
                row_k["sc"] += 1
            vc = vips_crops.get((k, ratio))
            if vc and all(contains(vc, f) for f in faces):
                row_k["vips"] += 1
        for t in kept:
            kept[t] += row_k[t]
        rows.append([f"`{k}`", len(faces), f"{row_k['ps']}/7" if ps_crops is not None else "—",
                     f"{row_k['sc']}/7", f"{row_k['vips']}/7"])
    sc_errors = [f"{r['id']}: {r['error']}" for r in sc_results.values() if "error" in r]
    sc_ratio = max((abs((r["width"] / r["height"]) / (RATIOS[r["id"][1]][0] / RATIOS[r["id"][1]][1]) - 1) * 100
                    for r in sc_results.values() if "error" not in r and r["height"] > 0), default=0.0)
    rows.append(["**all**", f"{n} crops, {feas} can hold every face",
                 f"**{pct(kept['ps'], n)}**" if ps_crops is not None else "—",
                 pct(kept["sc"], n), pct(kept["vips"], n)])
    table(["Photo", f"Faces ({reference})", "photo-suite kept", "smartcrop.js kept",
           "libvips attention kept"], rows)
    if skipped:
        print("Left out: " + "; ".join(skipped) + "\n")
    if sc_errors:
        print("smartcrop.js errors: " + "; ".join(sc_errors) + "\n")
    print(f"libvips offset read from: {VIPS_OFFSET_METHOD or 'n/a'} (verified pixel-exact); "
          f"smartcrop.js returns crops slightly under the asked size (largest ratio error "
          f"{sc_ratio:.2f}%), judged as returned.\n")

    # photo-suite's crops on every analysed photo: ratio and bounds
    try:
        worst, worst_at, outside, count, small = 0.0, "", [], 0, 0
        for k, doc in sorted(corpus.items()):
            crops = need(doc, "crops")
            w, h = doc["width"], doc["height"]
            for ratio, (rw, rh) in RATIOS.items():
                c = crops.get(ratio)
                if c is None:
                    outside.append(f"{k} {ratio} (no crop)")
                    continue
                x, y, cw, ch = box(c)
                count += 1
                if x < 0 or y < 0 or x + cw > w or y + ch > h or cw <= 0 or ch <= 0:
                    outside.append(f"{k} {ratio}")
                if min(w, h) < 100:
                    small += 1
                    continue  # a few pixels cannot hold a ratio to better than a pixel
                err = abs((cw / ch) / (rw / rh) - 1) * 100 if ch > 0 else float("inf")
                if err > worst:
                    worst, worst_at = err, f"{k} {ratio} ({cw:g}x{ch:g})"
        print(f"photo-suite crops on all {len(corpus)} analysed photos ({count} crops): largest "
              f"ratio error **{worst:.2f}%** ({worst_at or '-'}; photos under 100 px a side, "
              f"{small} crops, left out of this figure); outside the image: "
              f"**{len(outside)}**{' (' + ', '.join(outside[:10]) + ')' if outside else ''}.\n")
        target(not outside, "crops: every photo-suite crop lies inside its image")
    except Missing as exc:
        note_missing("crops (ratio and bounds)", exc)

    # roi and focal_point: inside the image (no anchor; a sanity check on every analysed photo)
    try:
        bad = []
        for k, doc in sorted(corpus.items()):
            w, h = doc["width"], doc["height"]
            x, y, rw, rh = box(need(doc, "roi"))
            if x < 0 or y < 0 or rw <= 0 or rh <= 0 or x + rw > w or y + rh > h:
                bad.append(f"{k} roi")
            fp = need(doc, "focal_point")
            if not (0 <= float(fp["x"]) <= w and 0 <= float(fp["y"]) <= h):
                bad.append(f"{k} focal_point")
        print(f"photo-suite `roi` and `focal_point` on all {len(corpus)} analysed photos: outside "
              f"the image: **{len(bad)}**{' (' + ', '.join(bad[:10]) + ')' if bad else ''}.\n")
        target(not bad, "crops: every roi and focal_point lies inside its image")
    except Missing as exc:
        note_missing("roi / focal_point", exc)


def section_quality(quality_keys, var_docs, variants, notes) -> None:
    print("## 3. Quality\n")
    print("Every camera/ photo, decoded upright. Blur ladder: Gaussian sigma 0, 1, 2, 4 on the full "
          "photo, saved as JPEG q92; a ladder counts when the score falls strictly at every step. "
          "Brightness ladder: gamma 0.5, 1, 2 on the normalised values (JPEG q92; gamma 1 is the "
          "sigma-0 file); it counts when the correctly exposed rung scores best: the original "
          "(gamma 1), but the brightest (gamma 0.5) where MANIFEST.tsv notes the original as "
          "underexposed (the darkest where it notes overexposed). photo-suite: "
          "`quality.sharpness` and `quality.exposure` (higher better); OpenCV: variance of the "
          "Laplacian of the grey image (higher = sharper); BRISQUE: "
          "`cv2.quality.QualityBRISQUE_compute` with the LIVE model (lower = better). Every figure "
          "on the same files.\n")
    data = {}
    missing = None
    for k in quality_keys:
        safe = k.replace("/", "__")
        d = {"sharp": [], "lap": [], "bri": [], "exp": {}, "bri_g": {}}
        for sigma in BLUR_SIGMAS:
            rel = f"quality/{safe}__blur{sigma}.jpg"
            bgr = cv2.imread(str(variants / rel), cv2.IMREAD_COLOR)
            d["lap"].append(laplacian_var(bgr))
            d["bri"].append(brisque(bgr))
            doc = var_docs.get(rel)
            try:
                if doc is None:
                    raise Missing(f"no analysis for variant {rel} (photo-suite rejected it)")
                q = need(doc, "quality")
                d["sharp"].append(float(q["sharpness"]))
                if sigma == 0:
                    d["exp"][1] = float(q["exposure"])
            except (Missing, KeyError) as exc:
                missing = missing or exc
        d["bri_g"][1] = d["bri"][0]
        for g in GAMMAS:
            if g == 1:
                continue
            rel = f"quality/{safe}__gamma{g}.jpg"
            bgr = cv2.imread(str(variants / rel), cv2.IMREAD_COLOR)
            d["bri_g"][g] = brisque(bgr)
            doc = var_docs.get(rel)
            try:
                if doc is None:
                    raise Missing(f"no analysis for variant {rel} (photo-suite rejected it)")
                d["exp"][g] = float(need(doc, "quality")["exposure"])
            except (Missing, KeyError) as exc:
                missing = missing or exc
        data[k] = d
    if missing:
        note_missing("quality", Missing(str(missing)))

    def falls(v):
        return len(v) == len(BLUR_SIGMAS) and all(a > b for a, b in zip(v, v[1:]))

    def rises(v):
        return len(v) == len(BLUR_SIGMAS) and all(a < b for a, b in zip(v, v[1:]))

    def f3(v):
        return " / ".join(f"{x:.3f}" for x in v) if v else "—"

    def f0(v):
        return " / ".join(f"{x:.0f}" for x in v)

    def f1(v):
        return " / ".join(f"{x:.1f}" for x in v)

    rows = []
    for k, d in data.items():
        rows.append([f"`{k.split('/', 1)[1]}`",
                     f"{f3(d['sharp'])} {'✓' if falls(d['sharp']) else '✗'}",
                     f"{f0(d['lap'])} {'✓' if falls(d['lap']) else '✗'}",
                     f"{f1(d['bri'])} {'✓' if rises(d['bri']) else '✗'}"])
    print("Blur ladder (sigma 0 / 1 / 2 / 4; ✓ = strictly worse at every step):\n")
    table(["camera/ photo", "photo-suite sharpness", "Laplacian variance", "BRISQUE (lower better)"],
          rows, "llll")

    def best(scores, correct, higher=True):
        """Whether the correct rung scores strictly best of the three."""
        return len(scores) == 3 and all(
            (scores[correct] > scores[g]) if higher else (scores[correct] < scores[g])
            for g in GAMMAS if g != correct)

    def score(x):
        # Three decimals, or three significant digits for a score too small for them.
        return f"{x:.3f}" if x >= 0.0005 or x == 0 else f"{x:.2g}"

    rows = []
    right = {k: correct_gamma(k, notes) for k in data}
    for k, d in data.items():
        e = d["exp"]
        b = d["bri_g"]
        rows.append([f"`{k.split('/', 1)[1]}`", f"{right[k]:g}",
                     " / ".join(score(e[g]) if g in e else "—" for g in GAMMAS)
                     + (" ✓" if best(e, right[k]) else " ✗"),
                     " / ".join(f"{b[g]:.1f}" for g in GAMMAS)
                     + (" ✓" if best(b, right[k], higher=False) else " ✗")])
    print("Brightness ladder (gamma 0.5 / 1 / 2; ✓ = the correctly exposed rung scores best: the "
          "original, but where MANIFEST.tsv calls the original underexposed, the brightest):\n")
    table(["camera/ photo", "correct rung (gamma)", "photo-suite exposure",
           "BRISQUE (lower better)"], rows, "llll")

    n = len(data)
    ps_ok = all(len(d["sharp"]) == len(BLUR_SIGMAS) for d in data.values())
    exp_ok = all(len(d["exp"]) == 3 for d in data.values())
    blur_ps = sum(falls(d["sharp"]) for d in data.values())
    blur_lap = sum(falls(d["lap"]) for d in data.values())
    blur_bri = sum(rises(d["bri"]) for d in data.values())
    exp_ps = sum(best(d["exp"], right[k]) for k, d in data.items()) if exp_ok else None
    exp_bri = sum(best(d["bri_g"], right[k], higher=False) for k, d in data.items())
    rows = [
        ["**photo-suite**", f"{blur_ps}/{n} = {pct(blur_ps, n)}" if ps_ok else "—",
         f"{exp_ps}/{n} = {pct(exp_ps, n)}" if exp_ok else "—"],
        ["OpenCV Laplacian variance", f"{blur_lap}/{n} = {pct(blur_lap, n)}", "n/a"],
        ["BRISQUE", f"{blur_bri}/{n} = {pct(blur_bri, n)}", f"{exp_bri}/{n} = {pct(exp_bri, n)}"],
    ]
    table(["Measure", "Blur ladders falling strictly", "Brightness ladders: correct rung best"], rows,
          "lrr")
    if ps_ok and n:
        xs = [s for d in data.values() for s in d["sharp"]]
        ys = [v for d in data.values() for v in d["lap"]]
        rho = spearman(xs, ys)
        print(f"Spearman rank agreement, photo-suite sharpness vs Laplacian variance over all "
              f"{len(xs)} blur variants: **{rho:.3f}**.\n")
    if ps_ok and n:
        target(blur_ps == n, f"quality: sharpness falls strictly along the blur ladder on {blur_ps} of "
                             f"{n} camera/ photos (target: every one)")
    if exp_ok and n:
        target(exp_ps == n, f"quality: exposure scores the correctly exposed rung best on {exp_ps} of "
                            f"{n} brightness ladders (target: every one)")


def section_dupes(keys, corpus, dup_variants, var_docs) -> None:  # noqa: C901
    print("## 4. Near duplicates\n")
    print("Every non-broken photo, decoded upright, saved as variants: re-encoded q60, resized to "
          "50% (Lanczos, q92), cropped 5% (2.5% per side, q92), brightened +10% (PIL "
          "ImageEnhance.Brightness 1.1, q92). Distance = 2·popcount(pHash xor) + popcount(dHash "
          f"xor) on photo-suite's `signature` (0..256); near duplicates when <= {DUP_THRESHOLD}. "
          "Originals = photo-suite's signature of the corpus file itself.\n")
    originals = [k for k in keys if not k.startswith("broken/") or k in SAME_GROUP]
    try:
        sig = {k: need(corpus[k], "signature") for k in originals}
        for k, s in sig.items():
            parse_signature(s)
    except Missing as exc:
        note_missing("near duplicates", exc)
        return
    except ValueError as exc:
        FAILED.append(f"near duplicates: {exc}")
        print(f"> **malformed signature**: {exc}\n")
        return

    rows, worst, worst_at, over = [], -1, "", 0
    per_kind: dict[str, int] = {}
    for k, made in dup_variants.items():
        dists = []
        for kind, rel in made:
            doc = var_docs.get(rel)
            if doc is None or "signature" not in doc:
                dists.append((kind, None))
                continue
            d = distance(sig[k], doc["signature"])
            dists.append((kind, d))
            per_kind[kind] = max(per_kind.get(kind, 0), d)
            over += d > DUP_THRESHOLD
            if d > worst:
                worst, worst_at = d, f"{k} ({kind})"
        rows.append([f"`{k}`"] + [("—" if d is None else (f"**{d}**" if d > DUP_THRESHOLD else d))
                                  for _, d in dists])
    kinds = [kind for kind, _ in next(iter(dup_variants.values()))] if dup_variants else []
    print("Distance of each variant to its original:\n")
    table(["Photo"] + kinds, rows)
    n_var = sum(len(v) for v in dup_variants.values())
    print(f"Largest distance of a variant to its original: **{worst}** ({worst_at}); per variant "
          f"kind: " + ", ".join(f"{kind} {v}" for kind, v in per_kind.items())
          + f"; variants over {DUP_THRESHOLD}: **{over}/{n_var}**.\n")
    target(over == 0, f"near duplicates: every variant within {DUP_THRESHOLD} of its original "
                      f"(max {worst})")

    pairs, same, tiny = [], [], []
    for i, a in enumerate(originals):
        for b in originals[i + 1:]:
            d = distance(sig[a], sig[b])
            if any(min(corpus[x]["width"], corpus[x]["height"]) < PAIR_MIN_SIDE for x in (a, b)):
                tiny.append((d, a, b))
            elif a in SAME_GROUP and SAME_GROUP.get(a) == SAME_GROUP.get(b):
                same.append((d, a, b))
            elif not a.startswith("broken/") and not b.startswith("broken/"):
                pairs.append((d, a, b))
    pairs.sort()
    within = [p for p in pairs if p[0] <= DUP_THRESHOLD]
    print(f"Different originals: {len(pairs)} pairs; smallest distance **{pairs[0][0] if pairs else '-'}**"
          f"; pairs within {DUP_THRESHOLD}: **{len(within)}**.\n")
    table(["Closest different pairs", "Distance"],
          [[f"`{a}` – `{b}`", d] for d, a, b in pairs[:5]])
    if tiny:
        tiny.sort()
        print(f"Left out of the pairs: {len(tiny)} pairs with a picture under {PAIR_MIN_SIDE} px a "
              f"side ({', '.join(sorted({x for _, a, b in tiny for x in (a, b) if min(corpus[x]['width'], corpus[x]['height']) < PAIR_MIN_SIDE}))}: "
              f"a single colour); {sum(d <= DUP_THRESHOLD for d, _, _ in tiny)} of them within "
              f"{DUP_THRESHOLD} (e.g. {tiny[0][1]} – {tiny[0][2]}: {tiny[0][0]}).\n")
    same.sort(reverse=True)
    if same:
        print(f"Same picture in several corpus files (expected near duplicates, `SAME_PICTURE` in "
              f"eval.py): {len(same)} pairs, largest distance {same[0][0]}, within "
              f"{DUP_THRESHOLD}: {sum(d <= DUP_THRESHOLD for d, _, _ in same)}/{len(same)}.\n")
        table(["Farthest same-picture pairs", "Distance"],
              [[f"`{a}` – `{b}`", d] for d, a, b in same[:5]])
    target(not within, f"near duplicates: no two different originals within {DUP_THRESHOLD} "
                       f"(closest {pairs[0][0] if pairs else '-'})")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(__doc__)
        sys.exit(0 if sys.argv[1] in ("-h", "--help") else 1)
    sys.exit(main())
