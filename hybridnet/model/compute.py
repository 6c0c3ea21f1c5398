"""Computation delay and energy of denoising steps on a processor (eq. 1-4, 8-9).

The paper uses the same two forms for the common phase on the ES (1)-(2),
personalized phase I on the ES (3)-(4) and phase II on the UE (8)-(9); only the
processor's parameters and the step count differ, so each form is written once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def processing_delay_s(steps: ArrayLike, cycles_per_step: ArrayLike,
                       freq_hz: ArrayLike) -> np.ndarray:
    """Seconds to run ``steps`` denoising steps at ``freq_hz``."""
    # eq. (1) T^C = x^max xi_ES / f^ES; eq. (3) T^PE = y xi_ES / f^ES; eq. (8) T^PU = z xi_UE / f^UE
    return np.asarray(steps, dtype=float) * np.asarray(cycles_per_step) / np.asarray(freq_hz)


def processing_energy_j(
    steps: ArrayLike, cycles_per_step: ArrayLike, freq_hz: ArrayLike, kappa: ArrayLike
) -> np.ndarray:
    """Joules to run ``steps`` steps: kappa * cycles * f^2 (dynamic CMOS power)."""
    # eq. (2) E^C = kappa x^max xi f^2; eq. (4) E^PE = kappa y xi f^2; eq. (9) E^PU = kappa z xi f^2
    freq = np.asarray(freq_hz, dtype=float)
    cycles = np.asarray(steps, dtype=float) * np.asarray(cycles_per_step)
    return np.asarray(kappa) * cycles * freq * freq
