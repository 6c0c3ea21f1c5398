"""The trace recorder: what happened to every request and every common phase.

Processes report each phase's instants once, into arrays preallocated for the
whole run, by row. Everything else is derived from those instants when the
run is over, in one vectorised pass: durations, waiting, delay, energies
(eq. 2, 4, 7, 9), QoS (eq. 12), the event rows and, through
:func:`hybridnet.sim.trace.summarise_slots`, the per-slot totals and reward. There
is no second bookkeeping that could drift from the first. Energies and QoS come
from the cost kernel (:mod:`hybridnet.model.costs`); the transmit energy from
the time each transfer was measured to take, which a shared band stretches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hybridnet.model.costs import common_energy_j, es_energy_j, qos, tx_energy_j, ue_energy_j
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.sim.trace import (
    EVENT_COLUMNS,
    GROUP_COLUMNS,
    PHASES,
    QUEUE_COLUMNS,
    UE_COLUMNS,
    RunResult,
    frame,
    queue_rows,
    summarise_slots,
)

UE_INSTANTS = ("t_request", "t_latent", "es_start", "es_end", "tx_end", "ue_start", "ue_end")
"""What a request reports, in this order, each in seconds of simulated time.

``t_latent`` is when its common latent is available (its request time if it
waits for none) and phase I is ready; the downlink starts when phase I ends
and phase II is ready when the downlink ends. A phase of zero steps starts
and ends when it is ready.
"""


class Recorder:
    """Per-UE and per-group records of one run, turned into frames at the end."""

    def __init__(self, params: ModelParams, num_ues: int, num_slots: int) -> None:
        rows = num_ues * num_slots
        self.params = params
        self.num_ues = num_ues
        self.num_slots = num_slots
        self._instants = np.full((rows, len(UE_INSTANTS)), np.nan)
        self._decided = {name: np.zeros(rows, dtype=np.int64) for name in ("group", "x", "y", "z")}
        self._world = {name: np.zeros(rows)
                       for name in ("phi", "f_ue_hz", "distance_m", "gain", "backlog_s")}
        self._queues: list[dict[str, np.ndarray]] = []
        self._group_rows: list[dict[str, np.ndarray]] = []
        self._common: list[tuple[float, float, float]] = []   # (ready, start, end) per group

    def open_slot(self, slot: int, state: SlotState, x: np.ndarray, y: np.ndarray,
                  z: np.ndarray, common_steps: np.ndarray, distance_m: np.ndarray,
                  t_start_s: float) -> tuple[int, int]:
        """Record slot ``slot``'s conditions and decision; return its first UE and group rows."""
        first = slot * self.num_ues
        rows = slice(first, first + self.num_ues)
        for name, values in (("group", state.group), ("x", x), ("y", y), ("z", z)):
            self._decided[name][rows] = values
        queues = state.observed_queues
        for name, values in (("phi", state.phi), ("f_ue_hz", state.f_ue_hz),
                             ("distance_m", distance_m), ("gain", state.gain),
                             ("backlog_s", queues.ue_backlog_s)):
            self._world[name][rows] = values
        self._queues.append(queue_rows(slot, t_start_s, queues))
        m = state.num_groups
        self._group_rows.append({
            "slot": np.full(m, slot, dtype=np.int64), "group": np.arange(m, dtype=np.int64),
            "members": np.bincount(state.group, minlength=m).astype(np.int64),
            "common_steps": np.asarray(common_steps, dtype=np.int64),
        })
        first_group = len(self._common)
        # a group without a common phase is done the moment the slot starts
        self._common.extend([(t_start_s, t_start_s, t_start_s)] * m)
        return first, first_group

    def ue_done(self, row: int, t_request: float, t_latent: float, es_start: float,
                es_end: float, tx_end: float, ue_start: float, ue_end: float) -> None:
        """A request is complete: its instants, in the order of UE_INSTANTS."""
        self._instants[row] = (t_request, t_latent, es_start, es_end, tx_end, ue_start, ue_end)

    def common_done(self, row: int, ready: float, start: float, end: float) -> None:
        """A common phase is complete: when it could start, did start and ended."""
        self._common[row] = (ready, start, end)

    def completed(self) -> np.ndarray:
        """Per slot opened so far, whether every one of its requests has its final content."""
        opened = len(self._group_rows)
        done = np.isfinite(self._instants[:opened * self.num_ues, -1])
        return done.reshape(opened, self.num_ues).all(axis=1)

    def slot_records(self, slots: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The UE rows and per-slot totals (reward included) of ``slots``, complete ones.

        What a run has measured so far, for whoever follows it while it goes on
        (:class:`hybridnet.sim.stepped.SteppedDes`).
        """
        ues, groups = self._ue_frame(slots), self._group_frame()
        groups = groups[groups["slot"].isin(slots)]
        return ues, summarise_slots(ues, groups, self.params.reward, self.num_ues)

    def result(self) -> RunResult:
        """The run's frames: UE, GROUP, SLOT, EVENT and QUEUE_COLUMNS."""
        ues, groups = self._ue_frame(), self._group_frame()
        return RunResult(ues=ues, groups=groups, events=self._event_frame(),
                         queues=frame(QUEUE_COLUMNS, self._queues),
                         slots=summarise_slots(ues, groups, self.params.reward, self.num_ues))

    def _ue_frame(self, slots: np.ndarray | None = None) -> pd.DataFrame:
        """The UE rows of ``slots`` (all the run's when None)."""
        p, n = self.params.physics, self.num_ues
        if slots is None:
            slots = np.arange(self.num_slots, dtype=np.int64)
        rows = (np.asarray(slots, dtype=np.int64)[:, None] * n + np.arange(n)).ravel()
        t_request, t_latent, es_start, es_end, tx_end, ue_start, ue_end = self._instants[rows].T
        decided = {name: values[rows] for name, values in self._decided.items()}
        world = {name: values[rows] for name, values in self._world.items()}
        x, y, z = decided["x"], decided["y"], decided["z"]
        f_ue_hz, phi = world["f_ue_hz"], world["phi"]
        t_tx = tx_end - es_end
        return pd.DataFrame({
            "slot": rows // n, "ue": rows % n,
            "group": decided["group"], "phi": phi, "f_ue_hz": f_ue_hz,
            "distance_m": world["distance_m"], "gain": world["gain"],
            "backlog_s": world["backlog_s"], "x": x, "y": y, "z": z,
            "rate_bps": p.payload_bits / t_tx,                  # effective, shared band included
            "tx_power_w": np.full(rows.size, p.tx_power_w),
            "payload_bits": np.full(rows.size, p.payload_bits),
            "t_request_s": t_request,
            "t_common_s": t_latent - t_request,
            "t_es_s": es_end - es_start,
            "t_tx_s": t_tx,
            "t_ue_s": ue_end - ue_start,
            "t_wait_s": (es_start - t_latent) + (ue_start - tx_end),
            "delay_s": ue_end - t_request,
            "t_done_s": ue_end,
            "e_es_j": es_energy_j(p, y),                                           # eq. (4)
            "e_tx_j": tx_energy_j(p, t_tx),                                        # eq. (7)
            "e_ue_j": ue_energy_j(p, z, f_ue_hz),                                  # eq. (9)
            "qos": qos(p, x, phi),                                                 # eq. (12)
        }, columns=list(UE_COLUMNS))

    def _group_columns(self) -> dict[str, np.ndarray]:
        return {c: np.concatenate([g[c] for g in self._group_rows]) for c in self._group_rows[0]}

    def _common_instants(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ready, start, end = np.array(self._common, dtype=float).reshape(-1, 3).T
        return ready, start, end

    def _group_frame(self) -> pd.DataFrame:
        cols = self._group_columns()
        _, start, end = self._common_instants()
        return pd.DataFrame({
            **cols,
            "t_common_s": end - start,
            "e_common_j": common_energy_j(self.params.physics, cols["common_steps"]),  # eq. (2)
        }, columns=list(GROUP_COLUMNS))

    def _event_frame(self) -> pd.DataFrame:
        """One row per executed phase, ordered by slot, UE (a group's common phase first), phase."""
        n = self.num_ues
        t_request, t_latent, es_start, es_end, tx_end, ue_start, ue_end = self._instants.T
        groups = self._group_columns()
        ready, start, end = self._common_instants()
        common = groups["common_steps"] > 0
        parts = [{
            "slot": groups["slot"][common], "ue": np.full(common.sum(), -1),
            "group": groups["group"][common],
            "phase": np.full(common.sum(), PHASES.index("common")),
            "t_ready_s": ready[common], "t_start_s": start[common], "t_end_s": end[common],
        }]
        for phase, executed, t_ready, t_start, t_end in (
            ("es", self._decided["y"] > 0, t_latent, es_start, es_end),
            ("tx", np.ones(t_request.size, dtype=bool), es_end, es_end, tx_end),
            ("ue", self._decided["z"] > 0, tx_end, ue_start, ue_end),
        ):
            which = np.flatnonzero(executed)
            parts.append({
                "slot": which // n, "ue": which % n, "group": self._decided["group"][which],
                "phase": np.full(which.size, PHASES.index(phase)),
                "t_ready_s": t_ready[which], "t_start_s": t_start[which],
                "t_end_s": t_end[which],
            })
        cols = {c: np.concatenate([part[c] for part in parts]) for c in EVENT_COLUMNS}
        order = np.lexsort((cols["phase"], cols["ue"], cols["slot"]))
        cols = {c: v[order] for c, v in cols.items()}
        cols["phase"] = np.array(PHASES, dtype=object)[cols["phase"]]
        return pd.DataFrame(cols, columns=list(EVENT_COLUMNS))
