"""What the audit finds, in the one form both of its ways produce: the flags of every hospital-year and area
(:func:`evaluation.audit.judge`), the chart-review list (:class:`ReviewList`) and the possible split pairs
(:func:`split_rows`). :func:`audit_findings` is the in-memory way (every case's arrays at once: the reference the tests
hold the streamed audit to); :mod:`evaluation.audit.streamed` is the way `drg audit` runs, in a fixed amount of memory."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import REVIEW_AREAS, case_areas, hospital_flags, review_scores, weight_at_stake

MIN_SCORE = 0.05  # cases less likely than this to be an excess case stay off the review list


class ReviewList:
    """The chart-review list, built block by block: cases with at least ``MIN_SCORE`` probability of being an excess
    case of a flagged hospital-year in a coding or admission area, ranked by the expected weight a review recovers
    (probability x weight at stake: what a bureau's reviewers are spent on first), the case id breaking ties; the best
    ``limit`` kept. The blocks come in input order, so that equal scores and ids keep it."""

    def __init__(self, areas: list, limit: int):
        self.areas, self.limit = list(areas), limit
        self.kept: dict | None = None

    def add(self, prob: np.ndarray, stake: np.ndarray, rows: dict) -> None:
        """``prob`` and ``stake``: (cases x areas); ``rows``: per case ``case_id`` (pyarrow), ``hosp``, ``year``, ``drg``,
        ``los``, ``mean_los``, ``p_capture``, ``oe_capture`` (what the reasons say)."""
        if not self.areas or not len(prob):
            return
        value = prob * stake
        k_best = value.argmax(axis=1)
        every = np.arange(len(k_best))
        best_p = prob[every, k_best]
        cand = np.flatnonzero(best_p >= MIN_SCORE)
        if not len(cand):
            return
        ids = rows["case_id"].take(pa.array(cand)).to_numpy(zero_copy_only=False).astype(object)
        new = {"case_id": np.where([v is None for v in ids], "", ids).astype(object) if len(ids) else ids,
               "score": value[cand, k_best[cand]], "probability": best_p[cand], "weight_at_stake": stake[cand, k_best[cand]],
               "area": k_best[cand], "prob": prob[cand], **{k: np.asarray(rows[k])[cand] for k in
                                                             ("hosp", "year", "drg", "los", "mean_los", "p_capture",
                                                              "oe_capture")}}
        if self.kept is not None:
            new = {k: np.concatenate([self.kept[k], v]) for k, v in new.items()}
        order = np.lexsort((new["case_id"], -new["score"]))[:self.limit]
        self.kept = {k: v[order] for k, v in new.items()}

    def rows(self) -> dict | None:
        """The kept cases, best first (None for none), with per area the cases its reason is given for:
        ``why`` {area: (positions, probabilities, {"los", "mean_los"[, "p", "oe"]})}."""
        if self.kept is None:
            return None
        k = self.kept
        why = {}
        for j, area in enumerate(self.areas):
            s = k["prob"][:, j]
            at = np.flatnonzero(s >= MIN_SCORE)
            if not len(at):
                continue
            extra = {"los": k["los"][at], "mean_los": k["mean_los"][at]}
            if area == "mcc_cc_capture":
                extra["p"], extra["oe"] = k["p_capture"][at], k["oe_capture"][at]
            why[area] = (at, s[at], extra)
        return {**{c: k[c] for c in ("case_id", "score", "probability", "weight_at_stake", "hosp", "year", "drg")},
                "target_area": np.array(self.areas, dtype=object)[k["area"]], "why": why}


def split_rows(second, first, ids_second, ids_first, hosp, year, gap, same, prob) -> dict:
    """The possible split pairs (each second stay, its first, the gap, the same principal diagnosis, the probability
    that the pair is a split), the likeliest first, case ids breaking ties."""
    ids_second = np.asarray(ids_second, dtype=object)
    p = np.asarray(prob, float)
    order = np.lexsort((ids_second.astype(str), -np.nan_to_num(p)))
    cols = {"case_id": ids_second, "first_case_id": np.asarray(ids_first, dtype=object),
            "hosp": np.asarray(hosp, np.int64), "year": year,
            "gap_days": np.asarray(gap, np.int64), "same_principal": same, "probability": p}
    return {k: np.asarray(v)[order] for k, v in cols.items()}


def capture_oe(final_sums: dict, n_units: int) -> np.ndarray:
    """Per unit the MCC/CC capture's observed over (peer-adjusted) expected count, the review reason's O/E."""
    if "mcc_cc_capture" not in final_sums:
        return np.full(n_units, np.nan)
    _, o, e, _ = final_sums["mcc_cc_capture"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return o / np.where(e > 0, e, np.nan)


def audit_findings(a: dict, adrg_words: list, hosp_words: list, h_level: np.ndarray, *, folds: int = 5, seed: int = 0,
                   supplied_rw=None, dx_words: list | None = None, patient_known: bool = True,
                   review_limit: int = 100_000) -> dict:
    """The audit of every case's arrays at once (``a``: :meth:`evaluation.audit.cases.AuditCases.arrays`): {"flags":
    the rows of :func:`evaluation.audit.judge`, "review": :meth:`ReviewList.rows`, "split": :func:`split_rows`}."""
    areas = case_areas(a, adrg_words, hosp_words, folds=folds, seed=seed, supplied_rw=supplied_rw, dx_words=dx_words)
    cols, stats_ = hospital_flags(areas, a["hosp"], a["year"], h_level, patient_known=patient_known)
    probs = review_scores(areas, stats_)
    use = [ar for ar in REVIEW_AREAS if ar in probs]
    review = ReviewList(use, review_limit)
    if use:
        oe = capture_oe(stats_["sums"], stats_["n_units"])
        review.add(np.column_stack([probs[ar] for ar in use]), np.column_stack([weight_at_stake(areas, ar) for ar in use]),
                   {"case_id": a["case_id"], "hosp": a["hosp"], "year": a["year"], "drg": a["drg"], "los": a["los"],
                    "mean_los": areas["mean_los"], "p_capture": areas.get("p_capture", np.full(len(a["ok"]), np.nan)),
                    "oe_capture": oe[np.maximum(stats_["unit"], 0)] if len(oe) else np.full(len(a["ok"]), np.nan)})
    split = None
    if patient_known:
        second = np.flatnonzero(areas["split_first"] >= 0)
        first = areas["split_first"][second]
        ids = a["case_id"]
        p = probs["split_admissions"][second] if "split_admissions" in probs else np.full(len(second), np.nan)
        split = split_rows(second, first, ids.take(pa.array(second)).to_numpy(zero_copy_only=False),
                           ids.take(pa.array(first)).to_numpy(zero_copy_only=False), a["hosp"][second], a["year"][second],
                           a["admit"][second] - a["discharge"][first],
                           (a["pdx"][second] == a["pdx"][first]) & (a["pdx"][second] >= 0), p)
    return {"flags": cols, "review": review.rows(), "split": split}
