"""The ES -> UE downlink: path loss, Shannon rate (eq. 6), latent transfer (eq. 5, 7).

Path loss is the 3GPP macro-cell model ``128.1 + 37.6 log10(d_km)`` dB (an
assumption of ours: the paper gives no channel parameters). Distances are in
metres and converted here, once, so no caller mixes units.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def path_loss_db(distance_m: ArrayLike, at_1km_db: float, slope_db: float) -> np.ndarray:
    """Large-scale path loss in dB at ``distance_m`` metres."""
    return at_1km_db + slope_db * np.log10(np.asarray(distance_m, dtype=float) / 1000.0)


def channel_gain(distance_m: ArrayLike, at_1km_db: float, slope_db: float,
                 fading_power: ArrayLike = 1.0) -> np.ndarray:
    """Linear power gain g_n: path loss times a small-scale fading power (1 = no fading)."""
    path_gain = 10.0 ** (-path_loss_db(distance_m, at_1km_db, slope_db) / 10.0)
    return path_gain * np.asarray(fading_power)


def noise_psd_w_per_hz(noise_psd_dbm_hz: float, noise_figure_db: float) -> float:
    """sigma0^2 in W/Hz: thermal noise PSD raised by the receiver's noise figure."""
    return 10.0 ** ((noise_psd_dbm_hz + noise_figure_db - 30.0) / 10.0)


def shannon_rate_bps(bandwidth_hz: ArrayLike, tx_power_w: ArrayLike, gain: ArrayLike,
                     noise_psd: float) -> np.ndarray:
    """Achievable downlink rate r_n in bit/s."""
    b = np.asarray(bandwidth_hz, dtype=float)
    # eq. (6) r_n = b_n log2(1 + p_n g_n / (sigma0^2 b_n))
    return b * np.log2(1.0 + np.asarray(tx_power_w) * np.asarray(gain) / (noise_psd * b))


def payload_bits(height: int, width: int, channels: int, bits_per_value: int,
                 compression_ratio: float) -> float:
    """Bits sent for one latent: n_h n_w d_h rho / tau (the numerator of eq. 5 over tau)."""
    return height * width * channels * bits_per_value / compression_ratio


def tx_delay_s(bits: ArrayLike, rate_bps: ArrayLike) -> np.ndarray:
    """Seconds to send ``bits`` at ``rate_bps``."""
    # eq. (5) T^T = n_h n_w d_h rho / (r_n tau)
    return np.asarray(bits, dtype=float) / np.asarray(rate_bps)


def tx_energy_j(tx_power_w: ArrayLike, delay_s: ArrayLike) -> np.ndarray:
    """Transmit energy spent by the ES for one downlink."""
    # eq. (7) E^T = p_n T^T
    return np.asarray(tx_power_w) * np.asarray(delay_s)
