"""`drg report`: one self-contained HTML file (Plotly charts with plotly.js inline, inline CSS/JS, no
network) and an Excel workbook with the same tables, in one language (Chinese by default).

Reads every table set of drg under a folder, at any depth and name, found by the manifest each command writes
(``.drg-output.json``, :func:`drg.report.outputs.find_outputs`), and a ``drg group`` summary beside them; a section
whose tables are absent is listed at the end with the command that makes them. Every text that comes from the data is
escaped; every chart has its numbers in a table beside it. The page (:mod:`drg.report.page`) puts together the
sections (:mod:`drg.report.sections`, one module per group) from the tables :mod:`drg.report.outputs` found.
"""

from __future__ import annotations

from .html import fmt
from .page import build_report, render, report_command, report_pair_matches

__all__ = ["build_report", "fmt", "render", "report_command", "report_pair_matches"]
