"""Traces of a run as tidy pandas frames, and the per-slot totals derived from them.

Delay and energy are recorded once per UE and per group; every total (per
slot, per run) is a sum over those same records, so the engines cannot drift
from one another in their bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hybridnet.model.costs import common_delay_s
from hybridnet.model.objective import SlotOutcome
from hybridnet.model.physics import PhysicsParams
from hybridnet.model.reward import RewardParams
from hybridnet.model.slot import Queues, SlotState

UE_COLUMNS = (
    "slot", "ue", "group", "phi", "f_ue_hz", "distance_m", "gain", "backlog_s", "x", "y", "z",
    "rate_bps",
    "tx_power_w", "payload_bits", "t_request_s", "t_common_s", "t_es_s", "t_tx_s", "t_ue_s",
    "t_wait_s", "delay_s", "t_done_s", "e_es_j", "e_tx_j", "e_ue_j", "qos",
)
GROUP_COLUMNS = ("slot", "group", "members", "common_steps", "t_common_s", "e_common_j")
SLOT_COLUMNS = ("slot", "qos", "delay_s", "energy_j", "e_common_j", "reward")
EVENT_COLUMNS = ("slot", "ue", "group", "phase", "t_ready_s", "t_start_s", "t_end_s")
QUEUE_COLUMNS = ("slot", "t_s", "es_backlog_s", "downlink_in_flight", "downlink_bits",
                 "ue_backlog_mean_s", "ue_backlog_p90_s", "ue_backlog_max_s")
"""What the controller was told at each decision epoch (:class:`~hybridnet.model.slot.Queues`);
each UE's own backlog is ``backlog_s`` of the UE rows."""
PHASES = ("common", "es", "tx", "ue")


@dataclass(frozen=True)
class RunResult:
    """Everything one simulated run produced."""

    ues: pd.DataFrame
    """One row per UE per slot (UE_COLUMNS)."""
    groups: pd.DataFrame
    """One row per group per slot: the common phase (GROUP_COLUMNS)."""
    slots: pd.DataFrame
    """One row per slot: totals and the reward (SLOT_COLUMNS)."""
    events: pd.DataFrame
    """One row per executed phase (EVENT_COLUMNS); ue = -1 for a group's common phase."""
    queues: pd.DataFrame
    """One row per slot: the queues at its decision epoch (QUEUE_COLUMNS)."""
    prompts: pd.DataFrame | None = None
    """The prompt texts behind phi, one row per UE per draw (None for synthetic phi)."""


def queue_rows(slot: int, t_s: float, queues: Queues) -> dict[str, np.ndarray]:
    """One slot's row of the queues frame."""
    ue = queues.ue_backlog_s
    return {
        "slot": np.array([slot]), "t_s": np.array([t_s]),
        "es_backlog_s": np.array([float(queues.es_backlog_s)]),
        "downlink_in_flight": np.array([int(queues.downlink_in_flight)]),
        "downlink_bits": np.array([float(queues.downlink_bits)]),
        "ue_backlog_mean_s": np.array([ue.mean()]),
        "ue_backlog_p90_s": np.array([np.quantile(ue, 0.9)]),
        "ue_backlog_max_s": np.array([ue.max()]),
    }


def own_energy_j(ues: pd.DataFrame) -> pd.Series:
    """Each request's own energy E_n (eq. 14): phase I on the ES, the downlink, phase II."""
    return ues["e_es_j"] + ues["e_tx_j"] + ues["e_ue_j"]                          # eq. (14)


def summarise_slots(ues: pd.DataFrame, groups: pd.DataFrame, reward: RewardParams,
                    num_ues: int) -> pd.DataFrame:
    """Per-slot totals (eq. 15-16) and the reward (17a) from the per-UE and per-group records."""
    per_ue = ues.groupby("slot", sort=True)[["qos", "delay_s", "e_es_j", "e_tx_j", "e_ue_j"]].sum()
    e_common = groups.groupby("slot", sort=True)["e_common_j"].sum().reindex(per_ue.index,
                                                                             fill_value=0.0)
    energy = e_common + per_ue["e_es_j"] + per_ue["e_tx_j"] + per_ue["e_ue_j"]     # eq. (16)
    return pd.DataFrame({
        "slot": per_ue.index.to_numpy(),
        "qos": per_ue["qos"].to_numpy(),
        "delay_s": per_ue["delay_s"].to_numpy(),
        "energy_j": energy.to_numpy(),
        "e_common_j": e_common.to_numpy(),
        "reward": reward.objective(per_ue["qos"].to_numpy(), per_ue["delay_s"].to_numpy(),
                                   energy.to_numpy(), num_ues),                  # eq. (17a)
    })


def closed_form_records(slot: int, state: SlotState, outcome: SlotOutcome,
                        params: PhysicsParams, distance_m: np.ndarray, t_request_s: float
                        ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-UE and per-group columns of one slot evaluated in closed form (no waiting)."""
    n, m = state.num_ues, state.num_groups
    ue_cols = {
        "slot": np.full(n, slot), "ue": np.arange(n), "group": state.group, "phi": state.phi,
        "f_ue_hz": state.f_ue_hz, "distance_m": distance_m, "gain": state.gain,
        "backlog_s": np.zeros(n), "x": outcome.x, "y": outcome.y,
        "z": outcome.z, "rate_bps": outcome.rate_bps, "tx_power_w": np.full(n, params.tx_power_w),
        "payload_bits": np.full(n, params.payload_bits), "t_request_s": np.full(n, t_request_s),
        "t_common_s": outcome.t_common_s, "t_es_s": outcome.t_es_s, "t_tx_s": outcome.t_tx_s,
        "t_ue_s": outcome.t_ue_s, "t_wait_s": np.zeros(n), "delay_s": outcome.delay_s,
        "t_done_s": t_request_s + outcome.delay_s, "e_es_j": outcome.e_es_j,
        "e_tx_j": outcome.e_tx_j, "e_ue_j": outcome.e_ue_j, "qos": outcome.qos,
    }
    members = np.bincount(state.group, minlength=m)
    group_cols = {
        "slot": np.full(m, slot), "group": np.arange(m), "members": members,
        "common_steps": outcome.common_steps,
        "t_common_s": common_delay_s(params, outcome.common_steps),              # eq. (1)
        "e_common_j": outcome.e_common_j,
    }
    return ue_cols, group_cols


def closed_form_events(slot: int, state: SlotState, outcome: SlotOutcome,
                       group_common_s: np.ndarray, t_request_s: float) -> dict[str, np.ndarray]:
    """Event rows of one closed-form slot: phases back to back, nothing waits.

    Like the DES, only executed phases get a row (a phase of zero steps does not
    run; the downlink always does), ordered by UE (a group's common phase first,
    ue = -1) and then by phase.
    """
    n, m = state.num_ues, state.num_groups
    es_start = t_request_s + outcome.t_common_s
    tx_start = es_start + outcome.t_es_s
    ue_start = tx_start + outcome.t_tx_s
    starts = np.concatenate([np.full(m, t_request_s), es_start, tx_start, ue_start])
    ends = np.concatenate([t_request_s + group_common_s, tx_start, ue_start,
                           ue_start + outcome.t_ue_s])
    ue = np.concatenate([np.full(m, -1), np.tile(np.arange(n), 3)])
    phase = np.repeat(np.arange(len(PHASES)), [m, n, n, n])
    executed = np.concatenate([outcome.common_steps > 0, outcome.y > 0, np.ones(n, bool),
                               outcome.z > 0])
    order = np.lexsort((phase, ue))
    order = order[executed[order]]
    return {
        "slot": np.full(order.size, slot), "ue": ue[order],
        "group": np.concatenate([np.arange(m), np.tile(state.group, 3)])[order],
        "phase": np.array(PHASES, dtype=object)[phase[order]],
        "t_ready_s": starts[order], "t_start_s": starts[order], "t_end_s": ends[order],
    }


def frame(columns: tuple[str, ...], chunks: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """Concatenate per-slot column dicts into one frame with the given column order."""
    if not chunks:
        return pd.DataFrame({c: [] for c in columns})
    return pd.DataFrame({c: np.concatenate([chunk[c] for chunk in chunks]) for c in columns})
