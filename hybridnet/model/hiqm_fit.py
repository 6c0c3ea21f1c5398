"""Fitting the HIQM surface (eq. 12) on measured CLIP scores, and checking it.

The paper gives five curves read off a figure; a UE's prompt similarity is
continuous, and the authors published the measurements behind the curves
(``hybridnet/data/semct_clip_scores.csv``). This module fits one surface
``Q(x, phi)`` to those raw measurements, says how well it predicts prompts it
has not seen (leave one public prompt out), and bins the measurements for the
Fig. 3-style comparison (:func:`hybridnet.plots.plot_hiqm` draws it).

The surface is eq. (12) with L, K and B each linear in phi and D fixed by
``Q(0, phi) = q0``, the mean score at x = 0: with no common steps the public
prompt is never used, so it cannot change the image. Left free, D(phi)
follows which personal prompts happen to fall at which similarity and tilts
Q(0, phi) by about 0.007, as much as the prompt schemes differ; the
constraint costs nothing out of sample (leave-one-public-prompt-out RMSE
0.03790 with it, 0.03794 without). Quadratic polynomials in phi changed the
held-out error by under 0.2 %: the scatter of single images (about 0.037)
dwarfs any misfit of the mean curve.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from hybridnet.errors import HybridnetError
from hybridnet.model.hiqm import (
    PARAMETER_NAMES,
    FittedHIQM,
    HiqmFit,
    QosModel,
    logistic_hiqm,
)

COLUMNS = ("seed", "public", "personal", "similarity", "common_steps", "clip_score")
"""Columns a CLIP-score CSV must have (extra columns are ignored)."""

BIN_CENTRES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
"""Similarity bins for plotting, each centre +- BIN_HALF_WIDTH, as in the paper's Fig. 3."""

BIN_HALF_WIDTH = 0.05

POLY_DEGREE = 1
"""Degree in phi of each of L, K, B (see the module docstring for why 1)."""

FREE = PARAMETER_NAMES[:3]
"""The fitted polynomials; D follows from q0."""

# Start every fit from the paper's phi = 0.4 curve, flat in phi: deterministic
# and inside the basin of the optimum for data shaped like Fig. 3.
_START = {"L": 0.1497, "K": 0.2558, "B": 12.96}


def read_clip_scores(path: Path) -> pd.DataFrame:
    """All rows of a CLIP-score CSV, checked: the columns exist, are numeric and complete."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise HybridnetError(f"{path}: cannot read CSV: {err}") from err
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise HybridnetError(f"{path}: missing column {', '.join(missing)} "
                             f"(need {', '.join(COLUMNS)})")
    frame = frame.loc[:, list(COLUMNS)]
    for column in COLUMNS:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna()
        if bad.any():
            line = int(np.argmax(bad.to_numpy())) + 2  # 1-based, after the header line
            raise HybridnetError(f"{path}: line {line}: column {column} is not a number")
        frame[column] = values
    if frame.empty:
        raise HybridnetError(f"{path}: no data rows")
    outside = (frame["similarity"].abs() > 1.0).to_numpy()
    if outside.any():
        line = int(np.argmax(outside)) + 2
        raise HybridnetError(f"{path}: line {line}: similarity must lie in [-1, 1]")
    return frame


def off_diagonal(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows where the public prompt differs from the personal one: the only informative ones."""
    return frame[frame["public"] != frame["personal"]]


def _surface(params: np.ndarray, x: np.ndarray, phi: np.ndarray, q0: float) -> np.ndarray:
    L, K, B = (np.polynomial.polynomial.polyval(phi, c)
               for c in params.reshape(len(FREE), POLY_DEGREE + 1))
    return logistic_hiqm(x, L, K, B, q0 - logistic_hiqm(0.0, L, K, B, 0.0))  # eq. (12)


def fit_surface(rows: pd.DataFrame) -> FittedHIQM:
    """Least-squares fit of the surface on ``rows`` (off-diagonal rows of the CSV).

    q0 is the rows' mean score at x = 0.
    """
    if rows.empty:
        raise HybridnetError("HIQM fit: no rows with public != personal to fit on")
    x = rows["common_steps"].to_numpy(dtype=float)
    phi = rows["similarity"].to_numpy(dtype=float)
    y = rows["clip_score"].to_numpy(dtype=float)
    q0 = float(rows.loc[rows["common_steps"] == 0, "clip_score"].mean())
    start = np.concatenate([[_START[name]] + [0.0] * POLY_DEGREE for name in FREE])
    result = least_squares(lambda p: _surface(p, x, phi, q0) - y, start, method="lm")
    if not result.success:
        raise HybridnetError(f"HIQM fit did not converge: {result.message}")
    coefficients = result.x.reshape(len(FREE), POLY_DEGREE + 1)
    return FittedHIQM(dict(zip(FREE, coefficients, strict=True)),
                      (float(phi.min()), float(phi.max())), q0)


def rmse(model: QosModel, rows: pd.DataFrame) -> float:
    """Root-mean-square error of ``model`` on the CLIP scores of ``rows``."""
    predicted = model.qos(rows["common_steps"].to_numpy(dtype=float),
                          rows["similarity"].to_numpy(dtype=float))
    return float(np.sqrt(np.mean((predicted - rows["clip_score"].to_numpy()) ** 2)))


def lopo_rmse(rows: pd.DataFrame) -> tuple[float, float]:
    """Leave-one-public-prompt-out RMSE of the surface and of a constant predictor.

    Each public prompt's rows are scored by a surface fitted without them, so
    the figure is what a new group's prompts can expect; the constant
    predictor (the training rows' mean) is the baseline it must beat. Both
    are pooled over all held-out rows. A held-out phi outside the training
    rows' range is clamped, exactly as the shipped model treats new prompts.
    """
    publics = np.unique(rows["public"].to_numpy())
    if len(publics) < 2:
        raise HybridnetError("HIQM fit: leaving one public prompt out needs at least two")
    squared = constant_squared = 0.0
    for public in publics:
        held_out = rows["public"] == public
        train, test = rows[~held_out], rows[held_out]
        squared += rmse(fit_surface(train), test) ** 2 * len(test)
        constant_squared += float(np.sum((test["clip_score"] - train["clip_score"].mean()) ** 2))
    return float(np.sqrt(squared / len(rows))), float(np.sqrt(constant_squared / len(rows)))


def fit_hiqm(path: Path, source: str | None = None) -> HiqmFit:
    """Fit the surface on the CSV at ``path`` and measure it in and out of sample.

    ``source`` is the provenance line stored with the fit; by default the
    file's name. The file's SHA-256 is stored as well, so a fit can always be
    matched to the exact data it came from.
    """
    rows = off_diagonal(read_clip_scores(path))
    model = fit_surface(rows)
    held_out, constant = lopo_rmse(rows)
    return HiqmFit(model=model, rmse_in_sample=rmse(model, rows), rmse_lopo=held_out,
                   rmse_constant_lopo=constant, n_rows=len(rows),
                   n_public_prompts=int(rows["public"].nunique()),
                   data_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                   source=source if source is not None else path.name)


def binned_means(frame: pd.DataFrame, centres: Sequence[float] = BIN_CENTRES) -> pd.DataFrame:
    """Mean CLIP score per similarity bin and common step, off-diagonal rows only.

    Columns: ``phi_bin`` (bin centre), ``common_steps``, ``clip_score``
    (mean), ``similarity`` (mean phi of the bin's rows, where its curve is
    drawn) and ``n_rows``. Rows outside every bin are left out.
    """
    rows = off_diagonal(frame)
    centre = np.asarray(centres, dtype=float)
    nearest = np.abs(rows["similarity"].to_numpy()[:, None] - centre[None, :]).argmin(axis=1)
    in_bin = np.abs(rows["similarity"].to_numpy() - centre[nearest]) <= BIN_HALF_WIDTH
    rows = rows[in_bin].assign(phi_bin=centre[nearest[in_bin]])
    per_step = rows.groupby(["phi_bin", "common_steps"], as_index=False).agg(
        clip_score=("clip_score", "mean"), n_rows=("clip_score", "size"))
    bin_phi = rows.groupby("phi_bin", as_index=False)["similarity"].mean()
    return per_step.merge(bin_phi, on="phi_bin")
