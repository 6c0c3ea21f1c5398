"""HIQM: how good a UE's image is, given how many steps it shared with its group.

A UE that takes ``x_n`` common steps starts its own denoising from a latent
steered by the *public* prompt; the less the public prompt resembles the
personal one (prompt similarity ``phi_n``, eq. 10), the more quality that
costs. The paper models this with a logistic curve per similarity, eq. (12),
and shows five of them in its Fig. 3 without printing their coefficients.

Two models are offered, chosen by name in the scenario file:

- ``"fitted"`` (:class:`FittedHIQM`): one continuous surface ``Q(x, phi)``
  fitted on the authors' own measured CLIP scores (``hybridnet/data``), with
  its leave-one-public-prompt-out error recorded beside the coefficients.
- ``"paper"`` (:class:`PaperHIQM`): the five Fig. 3 curves as digitised, for
  faithful reproduction of the paper's numbers.

Every model is pure numpy and broadcasts ``common_steps`` against ``phi``, so
the controller can score all UEs and all candidate decisions in one call.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np
from numpy.polynomial import polynomial
from numpy.typing import ArrayLike

from hybridnet.errors import HybridnetError
from hybridnet.registry import QOS_MODELS

PARAMETER_NAMES = ("L", "K", "B", "D")
"""The four coefficients of eq. (12), in the order the paper writes them."""

FIT_FORMAT = "hybridnet.hiqm_fit/1"
"""Tag of the JSON written by :meth:`HiqmFit.to_dict`; bumped if the layout changes."""


class QosModel(Protocol):
    """Anything that maps common steps and prompt similarity to a QoS score."""

    def qos(self, common_steps: np.ndarray, phi: np.ndarray) -> np.ndarray:
        """Q for ``common_steps`` (x_n) and ``phi`` (similarity in [-1, 1]), broadcast."""
        ...


def logistic_hiqm(x: ArrayLike, L: ArrayLike, K: ArrayLike, B: ArrayLike,
                  D: ArrayLike) -> np.ndarray:
    """Eq. (12) for arrays that broadcast together.

    ``L`` is the quality lost between no and all common steps, ``K`` how
    sharply it is lost, ``B`` the step around which it is lost and ``D`` the
    floor; with ``L, K >= 0`` the curve never rises with ``x``.
    """
    x = np.asarray(x, dtype=float)
    return np.asarray(L) / (1.0 + np.exp(np.asarray(K) * (x - np.asarray(B)))) + D  # eq. (12)


class PaperHIQM:
    """The five HIQM curves of the paper's Fig. 3 (phi = 0.2, 0.3, ..., 0.6).

    The coefficients were read off the figure, so they are approximate. A UE's
    phi is continuous, so between two table curves Q
    is the linear interpolation, in phi, of the two neighbouring curves' Q at
    the same ``x``; outside [0.2, 0.6] the nearest curve is used (phi is
    clamped). At a table phi the curve is reproduced exactly.
    """

    PHI = np.array([0.2, 0.3, 0.4, 0.5, 0.6])
    L = np.array([0.2029, 0.1673, 0.1497, 0.1143, 0.0921])
    K = np.array([0.2711, 0.2902, 0.2558, 0.2384, 0.1899])
    B = np.array([13.36, 13.86, 12.96, 12.00, 9.92])
    D = np.array([0.0895, 0.1179, 0.1474, 0.1796, 0.2060])

    def qos(self, common_steps: ArrayLike, phi: ArrayLike) -> np.ndarray:
        """Q of the two table curves around ``phi``, linearly interpolated in phi."""
        x, p = np.broadcast_arrays(np.asarray(common_steps, dtype=float),
                                   np.clip(np.asarray(phi, dtype=float), self.PHI[0], self.PHI[-1]))
        lo = np.clip(np.searchsorted(self.PHI, p, side="right") - 1, 0, len(self.PHI) - 2)
        hi = lo + 1
        w = (p - self.PHI[lo]) / (self.PHI[hi] - self.PHI[lo])
        q_lo = logistic_hiqm(x, self.L[lo], self.K[lo], self.B[lo], self.D[lo])
        q_hi = logistic_hiqm(x, self.L[hi], self.K[hi], self.B[hi], self.D[hi])
        return (1.0 - w) * q_lo + w * q_hi

    def describe(self) -> str:
        """The table of coefficients, as printed by ``hybridnet hiqm show --model paper``."""
        lines = ["paper HIQM, eq. (12), coefficients digitised from Fig. 3:",
                 "  phi        L        K        B        D"]
        for row in zip(self.PHI, self.L, self.K, self.B, self.D, strict=True):
            lines.append("  {:.1f}  {:7.4f}  {:7.4f}  {:7.2f}  {:7.4f}".format(*row))
        lines.append("  between curves: Q interpolated linearly in phi; outside [0.2, 0.6]: "
                     "nearest curve")
        return "\n".join(lines)


@dataclass(frozen=True)
class FittedHIQM:
    """Eq. (12) with each of L, K, B, D a polynomial in phi: a continuous Q(x, phi).

    ``coefficients[name][k]`` multiplies ``phi**k`` (increasing powers). With
    ``q0`` set (the shipped fit), D is not free: it is the value that makes
    ``Q(0, phi) = q0`` for every phi, because without common steps the public
    prompt is never used and cannot change the image. Left free, D(phi) picks
    up which personal prompts happen to fall at which similarity, and that
    spurious slope at x = 0 is as large as the differences between prompt
    schemes. The
    polynomials are only trusted where they were fitted, so phi is clamped
    into ``phi_range`` (the similarities seen in the data) before they are
    evaluated: a UE with phi below the range gets the least-similar curve,
    one above it (up to identical prompts, phi = 1) the most-similar one.
    Construction checks that L and K are non-negative over that range, which
    makes Q non-increasing in x for every phi.
    """

    coefficients: Mapping[str, Sequence[float]]
    phi_range: tuple[float, float]
    q0: float | None = None
    """Quality without common steps, shared by every phi; None: D is a free polynomial."""

    @property
    def free_parameters(self) -> tuple[str, ...]:
        """The parameters given as polynomials: L, K, B, and D unless ``q0`` fixes it."""
        return PARAMETER_NAMES[:3] if self.q0 is not None else PARAMETER_NAMES

    def __post_init__(self) -> None:
        names = self.free_parameters
        if sorted(self.coefficients) != sorted(names):
            raise HybridnetError(f"fitted HIQM: coefficients for {', '.join(self.coefficients)}; "
                                 f"need exactly {', '.join(names)}"
                                 + (" (D follows from q0)" if self.q0 is not None else ""))
        if self.q0 is not None and not math.isfinite(float(self.q0)):
            raise HybridnetError(f"fitted HIQM: q0 = {self.q0} must be finite")
        # Read-only tuples of floats: the shipped model is shared by every caller.
        coefficients = {name: tuple(float(c) for c in self.coefficients[name]) for name in names}
        for name, values in coefficients.items():
            if not values or not all(math.isfinite(c) for c in values):
                raise HybridnetError(f"fitted HIQM: {name} needs one or more finite coefficients, "
                                     f"got {list(values)}")
        lo, hi = (float(v) for v in self.phi_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            raise HybridnetError(f"fitted HIQM: phi_range {self.phi_range} must be finite "
                                 "with lo <= hi")
        object.__setattr__(self, "coefficients", MappingProxyType(coefficients))
        object.__setattr__(self, "phi_range", (lo, hi))
        # A grid that contains both ends is exact for the linear polynomials we
        # fit, and a dense check for any higher degree a user may supply.
        grid = np.linspace(lo, hi, 201)
        for name in ("L", "K"):
            if np.any(self._parameter(name, grid) < 0.0):
                raise HybridnetError(f"fitted HIQM: {name}(phi) < 0 somewhere in phi_range "
                                     f"{self.phi_range}; Q would rise with common steps")

    def _parameter(self, name: str, phi: np.ndarray) -> np.ndarray:
        return polynomial.polyval(phi, np.asarray(self.coefficients[name], dtype=float))

    def qos(self, common_steps: ArrayLike, phi: ArrayLike) -> np.ndarray:
        """Q at ``common_steps`` for similarity ``phi`` (clamped into ``phi_range``)."""
        p = np.clip(np.asarray(phi, dtype=float), *self.phi_range)
        L, K, B = (self._parameter(name, p) for name in PARAMETER_NAMES[:3])
        if self.q0 is None:
            D = self._parameter("D", p)
        else:
            D = self.q0 - logistic_hiqm(0.0, L, K, B, 0.0)   # Q(0, phi) = q0, eq. (12)
        return logistic_hiqm(common_steps, L, K, B, D)


@dataclass(frozen=True)
class HiqmFit:
    """A fitted surface with the evidence for it: errors, data size and provenance.

    ``rmse_lopo`` is the leave-one-public-prompt-out error (refit without one
    public prompt, score its rows), the honest figure for prompts the fit has
    not seen; ``rmse_constant_lopo`` is the same for a constant predictor, the
    bar any quality model has to clear.
    """

    model: FittedHIQM
    rmse_in_sample: float
    rmse_lopo: float
    rmse_constant_lopo: float
    n_rows: int
    n_public_prompts: int
    data_sha256: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout shipped as ``hybridnet/data/hiqm_fitted.json``."""
        return {
            "format": FIT_FORMAT,
            "form": "Q(x, phi) = L(phi) / (1 + exp(K(phi) * (x - B(phi)))) + D(phi)  [eq. (12)]; "
                    "P(phi) = sum_k P[k] * phi**k; with q0, D(phi) makes Q(0, phi) = q0; "
                    "phi clamped into phi_range",
            "coefficients": {name: list(self.model.coefficients[name])
                             for name in self.model.free_parameters},
            "q0": self.model.q0,
            "phi_range": [float(v) for v in self.model.phi_range],
            "rmse_in_sample": self.rmse_in_sample,
            "rmse_lopo": self.rmse_lopo,
            "rmse_constant_lopo": self.rmse_constant_lopo,
            "n_rows": self.n_rows,
            "n_public_prompts": self.n_public_prompts,
            "data_sha256": self.data_sha256,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, path: Path | Traversable) -> HiqmFit:
        """Read a fit written by `hybridnet hiqm fit --out`."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise HybridnetError(f"{path}: cannot read HIQM fit: {err}") from err
        if not isinstance(raw, dict) or raw.get("format") != FIT_FORMAT:
            raise HybridnetError(f"{path}: not a HIQM fit (expected format {FIT_FORMAT!r})")
        keys = ("coefficients", "phi_range", "rmse_in_sample", "rmse_lopo", "rmse_constant_lopo",
                "n_rows", "n_public_prompts", "data_sha256", "source")
        missing = [key for key in keys if key not in raw]
        if missing:
            raise HybridnetError(f"{path}: HIQM fit lacks key '{missing[0]}'")
        try:
            lo, hi = raw["phi_range"]
            q0 = raw.get("q0")
            model = FittedHIQM(dict(raw["coefficients"]), (float(lo), float(hi)),
                               None if q0 is None else float(q0))
            return cls(model=model, rmse_in_sample=float(raw["rmse_in_sample"]),
                       rmse_lopo=float(raw["rmse_lopo"]),
                       rmse_constant_lopo=float(raw["rmse_constant_lopo"]),
                       n_rows=int(raw["n_rows"]), n_public_prompts=int(raw["n_public_prompts"]),
                       data_sha256=str(raw["data_sha256"]), source=str(raw["source"]))
        except (HybridnetError, TypeError, ValueError, AttributeError) as err:
            raise HybridnetError(f"{path}: malformed HIQM fit: {err}") from err

    def describe(self) -> str:
        """Coefficients and errors, as printed by ``hybridnet hiqm fit`` and ``show``."""
        lines = ["fitted HIQM, eq. (12) with L, K, B, D polynomials in phi "
                 "(coefficients of phi^0, phi^1, ...):"]
        for name in self.model.free_parameters:
            coeffs = ", ".join(f"{c:+.6g}" for c in self.model.coefficients[name])
            lines.append(f"  {name}(phi): [{coeffs}]")
        if self.model.q0 is not None:
            lines.append(f"  D(phi) such that Q(0, phi) = q0 = {self.model.q0:.6f} for every phi")
        lo, hi = self.model.phi_range
        lines += [
            f"  phi clamped into [{lo:.4f}, {hi:.4f}]",
            f"  in-sample RMSE: {self.rmse_in_sample:.5f}  ({self.n_rows} rows)",
            f"  leave-one-public-prompt-out RMSE: {self.rmse_lopo:.5f}  "
            f"({self.n_public_prompts} folds; constant model: {self.rmse_constant_lopo:.5f})",
            f"  data: {self.source} (sha256 {self.data_sha256[:12]})",
        ]
        return "\n".join(lines)


@functools.cache
def load_shipped_fit() -> HiqmFit:
    """The fit shipped in ``hybridnet/data/hiqm_fitted.json`` (read once, then shared)."""
    return HiqmFit.from_json(resources.files("hybridnet") / "data" / "hiqm_fitted.json")


_LOADERS = QOS_MODELS.implement({"fitted": lambda: load_shipped_fit().model, "paper": PaperHIQM})


def load_qos_model(name: str) -> QosModel:
    """The QoS model called ``name``, one of :data:`hybridnet.registry.QOS_MODELS`."""
    if name not in _LOADERS:
        raise HybridnetError(f"unknown QoS model {name!r}; choose one of {', '.join(QOS_MODELS)}")
    return _LOADERS[name]()
