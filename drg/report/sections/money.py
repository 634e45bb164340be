"""The money sections: DRG payment settlement and DIP settlement."""

from __future__ import annotations

import pandas as pd

from ...charts import GREEN, RED, esc, hbar
from .common import section, wan


def payment(r) -> str:
    st, t = r.o.get("payment.settlement"), r.t
    if st is None or not len(st):
        return ""
    year = st["year"].max() if "year" in st.columns else ""
    last = st[st["year"] == year] if "year" in st.columns else st
    last = last.sort_values("balance", kind="stable")
    show = pd.concat([last.head(15), last.tail(15)]).drop_duplicates("hospital_id")
    names = [f"{r.name(i)}" for i in show["hospital_id"]]
    texts = [wan(v) for v in show["balance"]]
    hover = [f"{esc(r.name(i))} ({esc(i)})<br>{t['balance']} {b:,.2f} {t['yuan']}<br>{t['payment_word']} {p:,.2f} {t['yuan']}"
             f"<br>{t['cost_word']} {c:,.2f} {t['yuan']}" for i, b, p, c in
             zip(show["hospital_id"], show["balance"], show["payment"], show["actual_cost"])]
    fig = hbar(names, list(show["balance"] / 1e4), t["payment_chart"].format(year=year), t["balance_axis"], texts=texts,
               colors=[RED if v < 0 else GREEN for v in show["balance"]], hover=hover, tickformat=",.0f")
    from evaluation.payment.classes import REGISTRY

    exceptions = [f"cases_{c.name}" for c in REGISTRY if c.settled and c.name != "normal"]  # every registered class
    keep = [c for c in ("year", "hospital_id", "level", "cases", "payment", "actual_cost", "balance", "balance_rate", "shared",
                        *exceptions) if c in st.columns]
    body = r.chart(fig) + r.details(last.sort_values("hospital_id", kind="stable")[keep])
    pl = r.o.get("payment.drg_profit_loss")
    if pl is not None and len(pl):
        p = pl[pl["year"] == pl["year"].max()] if "year" in pl.columns else pl
        by = p.groupby("drg", observed=True).agg(cases=("cases", "sum"), balance=("balance", "sum"), losing=("losing_cases", "sum"))
        by = by[by["cases"] > 0].sort_values("balance", kind="stable")
        worst = pd.concat([by.head(15), by.tail(5)])
        worst = worst[~worst.index.duplicated()]  # fewer than 20 DRGs: each once
        dn = {**r.drg_names, "0000": r.value("payment_class", "not_grouped")}  # the failure code: cases not grouped
        hover = [f"{esc(d)} {esc(dn.get(d, ''))}<br>{t['cases']} {int(c):,}<br>{t['balance']} {b:,.0f} {t['yuan']}"
                 f"<br>{t['loss_share']} {lz / max(c, 1):.0%}" for d, c, b, lz in zip(worst.index, worst["cases"], worst["balance"], worst["losing"])]
        fig = hbar([f"{d} {dn.get(d, '')}"[:28] for d in worst.index], list(worst["balance"] / 1e4),
                   t["pl_chart"].format(year=p["year"].max() if "year" in p.columns else ""), t["balance_axis"],
                   texts=[wan(v) for v in worst["balance"]], colors=[RED if v < 0 else GREEN for v in worst["balance"]], hover=hover)
        body += f"<h3>{esc(t['pl'])}</h3>" + r.chart(fig) + r.details(by.reset_index().rename(columns={"losing": "losing_cases"}))
    return section("payment", f"{t['payment']} ({year})", body)


def dip(r) -> str:
    """drg dip pay: each hospital's DIP case-mix index, cost per point, settlement and violation indices; the point
    value of each year."""
    h, params, t = r.o.get("dip.hospitals"), r.o.get("dip.parameters"), r.t
    if h is None or not len(h):
        return ""
    h = h.sort_values(["dip_cmi", "hospital_id"], ascending=[False, True], kind="stable")
    top = h.head(30)
    fig = hbar([r.name(i) for i in top["hospital_id"]], list(top["dip_cmi"]), t["dip_chart"], t["dip_axis"],
               texts=[f"{v:,.0f}" for v in top["dip_cmi"]])
    body = r.chart(fig) + f"<p class='note'>{esc(t['dip_note'])}</p>"
    if params is not None and len(params):
        body += r.table(params[["year", "budget", "points", "point_value"]], searchable=False)
    cols = ["hospital_id", "cases", "grouped", "points", "dip_cmi", "cost_per_point", "payment_fen", "high_cases", "low_cases",
            "readmission_index", "low_standard_index", "long_stay_index", "death_risk_index"]
    return section("dip", t["dip"], body + r.table(h[cols]))
