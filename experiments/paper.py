"""The paper's published numbers, the one place they are written down.

Zhuang et al., "Hybrid SD: edge-cloud collaborative inference for stable
diffusion models" (IEEE ICC 2025): Fig. 5(a) (reward per scheme, digitised
means over training episodes 300-500), the text's gains of HIS over the
other schemes, and Fig. 4(b) (converged reward of the PPO ablations). Every
experiment and every table that compares with the paper imports them from
here.
"""

from __future__ import annotations

SCHEMES = ("his", "ppgfis", "gfis", "iis")
"""The four prompt schemes, in the paper's order (best first)."""
SCHEME_LABELS = {"his": "HIS", "ppgfis": "PPGFIS", "gfis": "GFIS", "iis": "IIS"}

PAPER_FIG5A = {"his": 7.27, "ppgfis": 6.53, "gfis": 5.86, "iis": 3.68}
"""Fig. 5(a): digitised mean reward per slot over episodes 300-500."""
PAPER_GAIN_PCT = {"ppgfis": 12.6, "gfis": 24.1, "iis": 102.2}
"""The paper's text: HIS's reward gain over each scheme, %."""
PAPER_WEIGHTS = (0.6, 0.2, 0.2)
"""The reward weights (w1, w2, w3) of Fig. 5."""
PAPER_SPACING = {s: (PAPER_FIG5A["his"] - PAPER_FIG5A[s]) / (PAPER_FIG5A["his"]
                                                             - PAPER_FIG5A["iis"])
                 for s in ("ppgfis", "gfis")}
"""The offset-free spacing (R_HIS - R_X) / (R_HIS - R_IIS) of Fig. 5(a): 0.21 and 0.39.
Unlike a gain in %, it does not change when a constant is added to every reward (a
normalisation's offset), nor when they are all scaled."""
PAPER_PPGFIS_OVER_GFIS_PCT = 100 * (PAPER_FIG5A["ppgfis"] - PAPER_FIG5A["gfis"]) / abs(
    PAPER_FIG5A["gfis"])
"""PPGFIS's gain over GFIS in % from the digitised Fig. 5(a) means (the paper states only
HIS's gains): the middle pair of its order."""

PAPER_FIG4B = {"HID": "7.27", "without advantage normalisation": "~7.0",
               "without reward scaling": "~6.1-6.3"}
"""Fig. 4(b): converged reward per PPO ablation, as read off the figure."""
