"""Calibrate the 1:1 face threshold on ../shared/faces: print every pair's distance and a threshold sweep.

    .venv/bin/python scripts/calibrate_face_threshold.py [--id-photo]

``--id-photo`` also re-encodes every probe as an ID-card-sized photo (the face resized to ~102x126 px and
saved as JPEG quality 60, like the chip photo the ID reader returns) to show how far genuine distances drift
when one side of the pair is a small, compressed picture.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.face import error_counts, face_images, pair_distances, person_of
from kiosk.biometrics.faces import FaceAnalyzer
from kiosk.biometrics.images import load_rgb


def id_card_version(rgb: np.ndarray, analyzer: FaceAnalyzer) -> np.ndarray | None:
    found = analyzer.analyse(rgb, encoding=False)
    if found.box is None:
        return None
    box = found.box
    # An ID photo shows head and shoulders: widen the face box, keep a 102:126 aspect.
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    half_w = box.width * 0.85
    half_h = half_w * 126 / 102
    crop = Image.fromarray(rgb).crop(
        (int(cx - half_w), int(cy - half_h * 0.9), int(cx + half_w), int(cy + half_h * 1.1))
    )
    buffer = io.BytesIO()
    crop.resize((102, 126), Image.Resampling.LANCZOS).save(buffer, format="JPEG", quality=60)
    return load_rgb(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--id-photo", action="store_true")
    args = parser.parse_args()
    analyzer = FaceAnalyzer()
    encodings = {p.name: analyzer.analyse(load_rgb(p)).encoding for p in face_images()}
    pairs, unlabelled = pair_distances(encodings)
    print(f"{'image A':28} {'image B':28} {'same':5} distance")
    for pair in sorted(pairs, key=lambda p: p["distance"]):
        print(f"{pair['a']:28} {pair['b']:28} {'yes' if pair['same'] else 'no':5} {pair['distance']:.3f}")
    print(f"unlabelled (not in the pairs): {', '.join(unlabelled)}")
    print("\nthreshold  false non-matches/genuine  false matches/impostor")
    for threshold in np.arange(0.30, 0.76, 0.05):
        c = error_counts(pairs, float(threshold))
        fnm = f"{c['false_non_matches']:>3}/{c['genuine_pairs']}"
        print(f"{threshold:9.2f}  {fnm:<26} {c['false_matches']:>3}/{c['impostor_pairs']}")
    if args.id_photo:
        print("\nID-photo-sized probe (102x126 JPEG q60) against every other labelled image's full picture:")
        genuine, impostor = [], []
        for path in face_images():
            if person_of(path) is None:
                continue
            small = id_card_version(load_rgb(path), analyzer)
            probe = None if small is None else analyzer.analyse(small).encoding
            if probe is None:
                print(f"  {path.name}: no face found at ID-photo size")
                continue
            for other, encoding in encodings.items():
                if other == path.name or encoding is None or person_of(Path(other)) is None:
                    continue
                distance = float(np.linalg.norm(probe - encoding))
                (genuine if person_of(Path(other)) == person_of(path) else impostor).append(distance)
        print(f"  genuine  n={len(genuine)} min={min(genuine):.3f} max={max(genuine):.3f}")
        print(f"  impostor n={len(impostor)} min={min(impostor):.3f} max={max(impostor):.3f}")


if __name__ == "__main__":
    main()
