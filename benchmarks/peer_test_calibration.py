"""How the peer test's outlier step was chosen (issue 40): per group size, between-hospital spread and number of
planted outliers (OR 1.6 or 2.0), the ordinary hospitals flagged per group at 99.8% (the limits' own rate is 0.002 x
size) and the share of planted outliers found, for the plain DerSimonian-Laird test (all units in) and for
:func:`evaluation.peers.peer_test` (Rosner's ESD at ``alpha``, each unit against the others, Student's t) at 1% (the
funnels' default) and 5% (the audit's). Normal approximation on the log scale, E from 300 to 3,000 deaths.

    python benchmarks/peer_test_calibration.py [--groups 300]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.peers import Z_FLAG, peer_test  # noqa: E402


def plain(y, s2):
    w = 1 / s2
    c = (w * y).sum() / w.sum()
    q = (w * (y - c) ** 2).sum()
    t2 = max(0.0, (q - (len(y) - 1)) / (w.sum() - (w * w).sum() / w.sum()))
    return (y - c) / np.sqrt(s2 + t2)


def run(rng, groups, size, tau, outliers, ratio, method):
    flagged = found = 0
    for _ in range(groups):
        e = np.exp(rng.uniform(np.log(300), np.log(3000), size))
        u = rng.normal(0, tau, size)
        u[:outliers] = np.log(ratio)
        o = rng.poisson(e * np.exp(u)).astype(float)
        y, s2 = np.log(np.maximum(o, 0.5) / e), 1 / e
        z = plain(y, s2) if method == "plain" else peer_test(y, s2, np.zeros(size), np.ones(size, bool), alpha=method)[0]
        flagged += (np.abs(z[outliers:]) > Z_FLAG).sum()
        found += (z[:outliers] > Z_FLAG).sum()
    return flagged / groups, found / max(groups * outliers, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=300)
    a = ap.parse_args()
    rng = np.random.default_rng(40)
    print("size  tau  outliers  OR   | ordinary flagged a group / outliers found: plain DL | ESD 1% | ESD 5%")
    for size in (10, 20, 50):
        for outliers, ratio in ((0, 1.0), (1, 1.6), (1, 2.0), (2, 2.0)):
            for tau in (0.1, 0.15):
                cells = [run(rng, a.groups, size, tau, outliers, ratio, m) for m in ("plain", 0.01, 0.05)]
                print(f"{size:4d} {tau:5.2f} {outliers:6d} {ratio:6.1f}   | "
                      + " | ".join(f"{f:.3f} / {d:.2f}" for f, d in cells), flush=True)


if __name__ == "__main__":
    main()
