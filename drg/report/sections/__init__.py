"""The sections of `drg report`, in page order: each reads the loaded output tables and returns its HTML (charts as
Plotly figures registered on the page, each with its numbers in a table), or "" when its tables are absent."""

from __future__ import annotations

from .care import support, tiered
from .coding import audit, quality_control, reason_translator
from .hospitals import funnel, heatmap, overview, peers, quadrants, risk, weights
from .money import dip, payment
from .units import absent, trends, views

SECTIONS = (overview, peers, quadrants, funnel, heatmap, weights, risk, payment, dip, tiered, support, audit, quality_control,
            views, trends, absent)
__all__ = ["SECTIONS", "reason_translator"]
