"""The figures every report of a run gives, computed in one place from the run's frames.

``hybridnet run``'s summary.json, a sweep's results.csv, the experiments and
the training log all report a run by the same numbers, so they are computed
here and nowhere else: the same cell then reads the same in each of them.

Energy per UE is the UE's own energy (phase I, downlink, phase II: eq. (14))
plus an equal share of its group's common phase (eq. (2) divided by the
group's members that slot). The shares of a group add up to its common
energy, so the UEs' energies add up to the slot's E of eq. (16) and their mean
is E / N: the common phase is paid for by those who use it, and nothing is
counted twice or left out.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from hybridnet.sim.trace import RunResult, own_energy_j

METRICS: Mapping[str, str] = {
    "reward": "reward per slot, eq. (17a), mean over slots",
    "qos": "Q = sum of the UEs' QoS per slot, eq. (15), mean over slots",
    "delay_s": "T = sum of the UEs' delays per slot, eq. (15), s, mean over slots",
    "energy_j": "E = total energy per slot, eq. (16), J, mean over slots",
    "qos_per_ue": "QoS per request, mean",
    "delay_per_ue_s": "delay per request (request to final content), s, mean",
    "delay_p95_s": "delay per request, s, 95th percentile",
    "energy_per_ue_j": "energy per request: its own phases plus an equal share of its "
                       "group's common phase, J, mean (E / N)",
    "t_wait_s": "time a request spent queueing, s, mean",
}
"""What :func:`run_metrics` returns, in order, and what each number means."""


def ue_energy_j(own_energy_j: npt.ArrayLike, common_energy_j: npt.ArrayLike,
                members: npt.ArrayLike) -> np.ndarray:
    """Each UE's energy: its own (eq. 14) plus its group's common energy (eq. 2) / members.

    The arguments line up UE by UE: ``common_energy_j`` and ``members`` are
    those of the UE's group in the same slot. A UE always counts among its
    group's members, so ``members`` is at least 1 wherever there is a UE.
    """
    return np.asarray(own_energy_j, dtype=float) + (np.asarray(common_energy_j, dtype=float)
                                                    / np.asarray(members, dtype=float))


def ue_energies(result: RunResult) -> pd.Series:
    """:func:`ue_energy_j` for every row of ``result.ues``, in its order."""
    ues = result.ues
    group = result.groups.set_index(["slot", "group"])
    index = pd.MultiIndex.from_arrays([ues["slot"], ues["group"]])
    own = own_energy_j(ues)
    return pd.Series(ue_energy_j(own, group["e_common_j"].reindex(index).to_numpy(),
                                 group["members"].reindex(index).to_numpy()),
                     index=ues.index, name="energy_j")


def slot_means(qos: npt.ArrayLike, delay_s: npt.ArrayLike, energy_j: npt.ArrayLike,
               reward: npt.ArrayLike) -> dict[str, float]:
    """Means over slots of the per-slot Q, T, E (eq. 15-16) and reward (17a).

    The arrays hold one total per slot. This is how a whole run is summed up
    in every report, the training log's episodes included.
    """
    return {name: float(np.mean(np.asarray(values, dtype=float))) for name, values in
            (("reward", reward), ("qos", qos), ("delay_s", delay_s), ("energy_j", energy_j))}


def run_metrics(result: RunResult) -> dict[str, float]:
    """The :data:`METRICS` of a run: totals per slot from ``result.slots``, the rest per UE.

    ``energy_per_ue_j`` is E summed over the run divided by the requests
    served: the mean of :func:`ue_energies`, which add up to E slot by slot.
    """
    slots, ues = result.slots, result.ues
    per_slot = slot_means(slots["qos"], slots["delay_s"], slots["energy_j"], slots["reward"])
    requests = len(slots) * ues["ue"].nunique()
    delay = ues["delay_s"].to_numpy(dtype=float)
    metrics = {
        **per_slot,
        "qos_per_ue": float(ues["qos"].to_numpy(dtype=float).mean()),
        "delay_per_ue_s": float(delay.mean()),
        "delay_p95_s": float(np.percentile(delay, 95)),
        "energy_per_ue_j": float(slots["energy_j"].sum()) / requests,
        "t_wait_s": float(ues["t_wait_s"].to_numpy(dtype=float).mean()),
    }
    return {name: metrics[name] for name in METRICS}


def policy_scores(result: RunResult) -> dict[str, float]:
    """Reward per slot and QoS, delay (s) and energy (J) per UE: how experiments compare policies.

    The same numbers as :func:`run_metrics`' ``reward``, ``qos_per_ue``,
    ``delay_per_ue_s`` and ``energy_per_ue_j``, under the names the
    experiments' tables use.
    """
    metrics = run_metrics(result)
    return {"reward": metrics["reward"], "qos": metrics["qos_per_ue"],
            "delay_s": metrics["delay_per_ue_s"], "energy_j": metrics["energy_per_ue_j"]}
