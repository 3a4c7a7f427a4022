#!/usr/bin/env python3
"""What the pixel analysis adds to the rendition job, from criterion's last run of the
renditions bench (its `new/estimates.json` files). Run after

    cargo bench -p photo-suite-benches --bench renditions -- "rendition_job"

    python3 benches/analysis_cost.py [--criterion target/criterion]

For each benched photo it prints the job's time without and with the analysis, as criterion
printed them (its slope estimate, or its mean where it sampled flat), and the increase. The
target, at most +50%, is the analysis issue's, for a 24 MP photo (the 24 MP progressive JPEG);
the 16 MP baseline JPEG, whose job is cheap (shrink-on-load), is printed beside it without one.
A photo whose figures are missing is named and skipped. Exits 1 when the 24 MP photo is over
the target, 2 when it has no figures (the bench has not run).
"""

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 0.50
# Criterion's group of each benched photo, and whether the target applies to it.
PHOTOS = [("24mp", True), ("16mp", False)]


def typical_ms(root: Path, photo: str, bench: str) -> float:
    """Criterion's time of one bench as it prints it (the slope, else the mean), in ms."""
    estimates = json.loads((root / photo / bench / "new" / "estimates.json").read_text())
    typical = estimates.get("slope") or estimates["mean"]
    return typical["point_estimate"] / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--criterion", type=Path, default=REPO / "target" / "criterion")
    args = parser.parse_args()
    over, measured = False, False
    for photo, targeted in PHOTOS:
        try:
            without = typical_ms(args.criterion, photo, "rendition_job")
            with_analysis = typical_ms(args.criterion, photo, "rendition_job_with_analysis")
        except (OSError, KeyError, TypeError, ValueError) as exc:
            print(f"{photo}: no criterion figures, skipped ({exc})")
            continue
        added = with_analysis / without - 1
        if targeted:
            measured = True
            over = added > TARGET
        target = f"target at most {TARGET:+.0%}" if targeted else "no target"
        print(f"{photo}: rendition job {without:.1f} ms, with the pixel analysis "
              f"{with_analysis:.1f} ms: {added:+.0%} ({target})")
    if not measured:
        print("no figures for the 24 MP photo: run the bench first", file=sys.stderr)
        return 2
    verdict = "FAIL" if over else "PASS"
    print(f"{verdict}: the analysis adds {'more than' if over else 'at most'} {TARGET:+.0%} "
          "to the 24 MP photo's rendition job")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
