"""What one case would be paid: `drg explain --weights ...` and `drg serve`'s ``payment_estimate``.

The weights file and the payment rules are read once (:class:`PaymentEstimator`); each case is then classed by
section 4.2 of the methodology -- normal, high or low cost against the DRG's mean cost when the weights file has
``mean_cost``, long stay, not grouped, no weight -- with the very functions ``drg pay`` settles with
(``evaluation.payment.classify``, ``case_points``, ``rate_terms``), and priced as points x point value, or weight
units x base rate plus the yuan paid at cost, to the fen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.payment.classes import BY_NAME

class PaymentEstimator:
    """Weights and payment rules, loaded once; :meth:`estimate` prices one case.

    Parameters
    ----------
    weights : str
        CSV with ``drg, weight`` (or ``rw``) and optionally ``mean_cost``.
    point_value, base_rate : float
        At most one: yuan per point (points method) or yuan per weight unit (rate method); with neither, only
        :meth:`weight` answers (``priced`` is False).
    config : str, optional
        TOML with ``[payment]`` rules, as ``drg pay --config``.
    """

    def __init__(self, weights: str, *, point_value: float | None = None, base_rate: float | None = None,
                 config: str | None = None):
        from .io import InputError
        from .settlement import payment_config
        from .tables import supplied_weights

        if point_value is not None and base_rate is not None:
            raise InputError("give one of --point-value (yuan per point) or --base-rate (yuan per weight unit), not both")
        t = supplied_weights(weights)
        t.columns = [str(c).strip().lower() for c in t.columns]
        self.rw_of = dict(zip(t["drg"].astype(str), pd.to_numeric(t["weight" if "weight" in t.columns else "rw"], errors="coerce")))
        self.mean_of = (dict(zip(t["drg"].astype(str), pd.to_numeric(t["mean_cost"], errors="coerce")))
                        if "mean_cost" in t.columns else {})
        self.pooled = float(np.nanmedian(list(self.mean_of.values()))) if self.mean_of else np.nan
        self.point_value, self.base_rate = point_value, base_rate
        self.priced = point_value is not None or base_rate is not None
        self.cfg = payment_config(config, "points" if point_value is not None else "rate")

    def weight(self, drg: str) -> float | None:
        """The DRG's weight, or None when the weights file has none."""
        w = self.rw_of.get(drg, np.nan)
        return float(w) if np.isfinite(w) else None

    def estimate(self, drg: str, status_ok: bool, *, cost: float | None = None, los: int | None = None,
                 leaving_type: str | None = None, coefficient: float = 1.0) -> dict:
        """``{"drg", "weight", "class", "class_name_zh", "yuan", "fen", "points" or "weight_units" + "at_cost_yuan"}``
        of one case."""
        return self.estimate_many([drg], [status_ok], costs=[cost], los=[los], leaving_types=[leaving_type],
                                  coefficient=coefficient)[0]

    def estimate_many(self, drgs: list, status_ok: list, *, costs: list, los: list, leaving_types: list,
                      coefficient: float = 1.0) -> list[dict]:
        """:meth:`estimate` of many cases at once (one classification over arrays)."""
        from evaluation.common import EvaluationError, prepare
        from evaluation.payment import CLASSES, case_points, classify, rate_terms, to_fen

        from .io import InputError

        n = len(drgs)
        case = prepare(pd.DataFrame({"hospital_id": ["estimate"] * n, "drg": [d if ok else "" for d, ok in zip(drgs, status_ok)],
                                     "total_cost": pd.array(costs, dtype="Float64"), "los_days": list(los),
                                     "leaving_type": [lt or "1" for lt in leaving_types]}))
        rw = np.array([self.rw_of.get(d, np.nan) for d in drgs], float)
        mean_g = np.array([self.mean_of.get(d, np.nan) for d in drgs], float)
        mean_g[~np.isfinite(mean_g) & np.isfinite(rw)] = np.inf  # no mean cost: the cost-ratio classes cannot apply
        code = classify(case, rw, mean_g, self.cfg)
        K = np.full(n, coefficient, float)
        cost_arr = case["cost"].to_numpy(float)
        if self.point_value is not None:
            pts = case_points(code, np.nan_to_num(rw), K, cost_arr, mean_g, self.pooled, self.cfg)
            amount = pts * self.point_value
        else:
            a, b = rate_terms(code, np.nan_to_num(rw), K, cost_arr, mean_g, self.pooled, self.cfg)
            amount = a * self.base_rate + b
        try:
            fen = to_fen(np.asarray(amount, float))
        except EvaluationError as e:
            raise InputError(f"payment estimate: {e}") from None
        out = []
        for i in range(n):
            cls = CLASSES[int(code[i])]
            e = {"drg": drgs[i] or None, "weight": float(rw[i]) if np.isfinite(rw[i]) else None, "coefficient": coefficient,
                 "class": cls, "class_name_zh": BY_NAME[cls].explain_zh}
            if self.point_value is not None:
                e.update(points=round(float(pts[i]), 6), point_value=self.point_value)
            else:
                e.update(weight_units=round(float(a[i]), 6), base_rate=self.base_rate, at_cost_yuan=round(float(b[i]), 2))
            e.update(fen=int(fen[i]), yuan=int(fen[i]) / 100)
            out.append(e)
        return out

    def words(self, e: dict, lang: str) -> str:
        """One estimate in a sentence (what `drg explain` prints)."""
        zh = lang == "zh"
        w = f"{e['weight']:.4f}" if e["weight"] is not None else ("无" if zh else "none")
        if "points" in e:
            how = (f"{e['points']:.2f} 点 × 点值 ¥{e['point_value']:g}" if zh else
                   f"{e['points']:.2f} points x point value ¥{e['point_value']:g}")
        else:
            how = (f"{e['weight_units']:.4f} 权重单位 × 费率 ¥{e['base_rate']:g} + ¥{e['at_cost_yuan']:,.2f}" if zh else
                   f"{e['weight_units']:.4f} weight units x base rate ¥{e['base_rate']:g} + ¥{e['at_cost_yuan']:,.2f}")
        drg, k, yuan = e["drg"] or "-", e["coefficient"], e["yuan"]
        if zh:
            return f"支付估算: DRG {drg}（权重 {w}，医院系数 {k:g}，{e['class_name_zh']}）本病例预计支付 ¥{yuan:,.2f} = {how}"
        cls = BY_NAME[e["class"]].explain_en
        return f"payment estimate: DRG {drg} (weight {w}, coefficient {k:g}, {cls}) this case would be paid ¥{yuan:,.2f} = {how}"


def case_payment_estimate(drg: str, status_ok: bool, *, weights: str, point_value: float | None = None,
                          base_rate: float | None = None, cost: float | None = None, los: int | None = None,
                          leaving_type: str | None = None, coefficient: float = 1.0, config: str | None = None,
                          lang: str = "zh") -> str:
    """`drg explain --weights ... --point-value|--base-rate`: what one case would be paid, in words."""
    from .io import InputError

    if (point_value is None) == (base_rate is None):
        raise InputError("--weights needs one of --point-value (yuan per point) or --base-rate (yuan per weight unit)")
    est = PaymentEstimator(weights, point_value=point_value, base_rate=base_rate, config=config)
    return est.words(est.estimate(drg, status_ok, cost=cost, los=los, leaving_type=leaving_type, coefficient=coefficient), lang)
