"""The experiments behind experiments/README.md: one module per study, run from the
repository root as ``python -m experiments.NAME``.

Each study module declares its ``COMMAND`` once (what experiments/README.md
and :mod:`experiments.report` quote) and keeps its three jobs apart: running
(controllers trained and scored, raw CSVs written), analysing (derived CSVs
from the raw ones) and plotting (PNGs from the CSVs). What they share lives
beside them: :mod:`experiments.paper` (the paper's published numbers),
:mod:`experiments.common` (options and sweep helpers), :mod:`experiments.stats`
(confidence intervals) and :mod:`experiments.tables` (Markdown formatting).
"""
