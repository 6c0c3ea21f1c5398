"""What the generalist observes: every cost of a step in units of the QoS term, on fixed
log scales, so one network reads any cell.

On the closed form a UE's own value of a split (x, y) with z = T - x - y is
(oracle.py's decomposition, eq. 12-17a)

    w1/q_ref Q(x, phi) - y c_ES - z c_UE(f) [- x c_wait with early hand-off],

where c_ES is one personalized ES step's delay and energy (eq. 3-4) weighed by
(17a), c_UE(f) one UE step's (eq. 8-9) and c_wait one common step's wait (eq. 1,
13); a group pays X (members c_wait + c_energy) for X common steps (eq. 1-2, 13).
The transfer (eq. 5-7) costs the same whatever the split. Dividing by the QoS
weight w1/q_ref leaves the argmax unchanged, so the optimum of any cell depends on
the weights, references, frequencies, cycles, kappas, HIQM and group sizes only
through these ratios, phi and the HIQM: that is what the actors observe. Scales are
fixed in advance (:data:`LOG_RANGE`), never the scenario's own ranges.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from hybridnet.model.costs import (
    common_delay_s,
    common_energy_j,
    es_delay_s,
    es_energy_j,
    ue_delay_s,
    ue_energy_j,
)
from hybridnet.model.hiqm import PaperHIQM, QosModel
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState

LOG_RANGE = (-6.0, 2.0)
"""log10 of a cost ratio mapped onto [-1, 1]; values beyond are clipped at +-1.5."""
LOG_CLIP = 1.5
PHI_CENTRE = 0.5
PHI_SPREAD = 0.3
"""phi is observed as (phi - 0.5) / 0.3: the measured 0.2-0.8 range maps onto [-1, 1]."""
MEMBERS_SCALE = float(np.log1p(2000))
"""log1p(members) is divided by this: the largest trained N."""
TINY = 1e-12

UE_BASE_DIM = 10
GROUP_DIM = 6


def ue_dim(x_max: int) -> int:
    """Width of a UE's observation: :data:`UE_BASE_DIM`, then per common step x = 1..x_max
    the quality it loses and its net margin."""
    return UE_BASE_DIM + 2 * x_max


def signed_share(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a - b) / (|a| + |b|): which of two costs is larger, scale-free, in [-1, 1]."""
    return (a - b) / np.maximum(np.abs(a) + np.abs(b), TINY)


def log_scale(ratio: np.ndarray | float) -> np.ndarray:
    """log10 of a non-negative cost ratio on :data:`LOG_RANGE`, clipped."""
    lo, hi = LOG_RANGE
    value = np.log10(np.maximum(ratio, 10.0 ** (lo - 2)))
    return np.clip(2.0 * (value - lo) / (hi - lo) - 1.0, -LOG_CLIP, LOG_CLIP)


@dataclass(frozen=True)
class StepCosts:
    """One step's cost of each kind, in units of the QoS term's weight w1 / q_ref."""

    es_step: float
    """A personalized ES step: delay (eq. 3) and energy (eq. 4), weighed by (17a)."""
    wait_step: float
    """One member's wait for one common step (eq. 1, 13)."""
    group_step: float
    """What a group pays once per common step: its energy (eq. 2), and where the ES is
    priced (:meth:`priced`) its ES time."""
    ue_delay: float
    ue_energy: float
    """A UE step's delay at 1 Hz and energy per Hz^2 (eq. 8-9): c_UE(f) = ue_delay / f +
    ue_energy f^2."""
    early_handoff: bool
    fitted_hiqm: bool
    qos_model: QosModel
    x_max: int
    total_steps: int
    es_step_s: float
    """Seconds of ES work in a personalized step (eq. 3) and in a common step (eq. 1)."""
    ue_step_s_hz: float
    """Seconds of a UE step at 1 Hz (eq. 8): a UE's step takes ue_step_s_hz / f."""
    common_step_s: float
    delay_per_s: float
    """One second of one request's delay (17a)."""

    @classmethod
    def of(cls, params: ModelParams, x_max: int) -> StepCosts:
        p, r = params.physics, params.reward
        unit = max(float(r.qos_term(1.0)), TINY)

        def weigh(delay_s: float, energy_j: float) -> float:
            return float(r.delay_term(delay_s) + r.energy_term(energy_j)) / unit

        return cls(
            es_step=weigh(float(es_delay_s(p, 1)), float(es_energy_j(p, 1))),    # eq. (3)-(4)
            wait_step=weigh(float(common_delay_s(p, 1)), 0.0),                  # eq. (1)
            group_step=weigh(0.0, float(common_energy_j(p, 1))),        # eq. (2)
            ue_delay=weigh(float(ue_delay_s(p, 1, 1.0)), 0.0),                  # eq. (8)
            ue_energy=weigh(0.0, float(ue_energy_j(p, 1, 1.0))),                # eq. (9)
            early_handoff=p.early_handoff,
            fitted_hiqm=not isinstance(p.qos_model, PaperHIQM),
            qos_model=p.qos_model, x_max=x_max, total_steps=p.total_steps,
            es_step_s=float(es_delay_s(p, 1)), common_step_s=float(common_delay_s(p, 1)),
            ue_step_s_hz=float(ue_delay_s(p, 1, 1.0)),
            delay_per_s=weigh(1.0, 0.0),
        )

    def priced(self, es_price: float) -> StepCosts:
        """These costs with every second of ES work charged ``es_price`` more: a
        personalized step to its UE, a common step to its group (the fluid policy's
        Lagrange multiplier on the ES's capacity, in these units)."""
        return dataclasses.replace(
            self, es_step=self.es_step + es_price * self.es_step_s,
            group_step=self.group_step + es_price * self.common_step_s)

    def ue_step(self, f_ue_hz: np.ndarray, ue_price: np.ndarray | float = 0.0) -> np.ndarray:
        """c_UE(f) of each UE's CPU, and ``ue_price`` per second of its work (a UE's
        Lagrange multiplier on its slot, :mod:`~hybridnet.rl.generalist.priced`)."""
        return (self.ue_delay / f_ue_hz + self.ue_energy * f_ue_hz**2
                + ue_price * self.ue_step_s_hz / f_ue_hz)

    def quality(self, phi: np.ndarray) -> np.ndarray:
        """Q(x, phi) for x = 0..x_max (B, x_max + 1), eq. (12): a UE's image after x common
        steps, in the units the costs above are in."""
        return self.qos_model.qos(np.arange(self.x_max + 1)[None, :], phi[:, None])  # eq. (12)


@dataclass(frozen=True)
class Observation:
    """A batch of slots flattened to its UEs (B = S N) and their non-empty groups (R)."""

    ue: np.ndarray
    """(B, ue_dim(x_max)) float32."""
    group: np.ndarray
    """(R, GROUP_DIM) float32."""
    row: np.ndarray
    """Each UE's group row (B,)."""
    allows_common: np.ndarray
    """Whether each group row may run common steps (R,): IIS has none."""
    key: np.ndarray
    """Each group row's slot * M + group within its cell (R,)."""
    ue_scale: np.ndarray
    """Each UE's stake in its split, in the costs' units (B,): c_UE(f) + c_ES + its
    largest quality lost in a step; the gain head predicts gains over it."""
    group_cost: np.ndarray
    """What one common step costs each group row, in the costs' units (R,): its members'
    wait (not with early hand-off) and its energy (eq. 1-2, 13)."""
    quality: np.ndarray
    """Each UE's Q(x, phi) for every x (B, X+1), eq. (12)."""
    ue_step: np.ndarray
    """Each UE's c_UE(f), its own price included (B,)."""
    es_step: np.ndarray
    """c_ES, per UE (B,): several cells' batches differ."""
    own_wait_step: np.ndarray
    """What a UE pays per common step it takes itself (B,): c_wait with early hand-off,
    else 0 (the group pays the wait, in ``group_cost``)."""
    total_steps: np.ndarray
    """T_max, per UE (B,)."""


def group_rows(state: SlotState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each UE's row among the batch's non-empty (slot, group) pairs, each row's key
    slot * M + group, and its member count: ``(row (B,), key (R,), members (R,))``."""
    key = state.group_keys()
    counts = np.bincount(key, minlength=state.num_slots * state.num_groups)
    present = np.flatnonzero(counts)
    rank = np.zeros(len(counts), dtype=np.int64)
    rank[present] = np.arange(len(present))
    return rank[key], present, counts[present]


def observe(costs: StepCosts, state: SlotState, ue_price: np.ndarray | float = 0.0,
            quality: np.ndarray | None = None) -> Observation:
    """The generalist's observation of ``state`` (one slot (N,) or a batch (S, N)), each
    UE's work charged ``ue_price`` per second (:meth:`StepCosts.ue_step`); ``quality``:
    :meth:`StepCosts.quality` of its phi, where a caller observing one slot at several
    prices has it."""
    row, key, members = group_rows(state)
    f = np.asarray(state.f_ue_hz, dtype=float).ravel()
    phi = np.asarray(state.phi, dtype=float).ravel()
    ue_step = costs.ue_step(f, ue_price)
    es = np.full_like(f, costs.es_step)
    common = np.full(len(members), costs.group_step)
    b = len(f)
    per_member = (members * costs.wait_step + common) / members
    quality = costs.quality(phi) if quality is None else quality
    lost = quality[:, :-1] - quality[:, 1:]
    # a common step instead of a UE step saves c_UE(f), less its wait with early hand-off
    saving = ue_step - (costs.wait_step if costs.early_handoff else 0.0)
    flags = np.array([float(costs.early_handoff), float(costs.fitted_hiqm)])
    ue = np.column_stack([
        (phi - PHI_CENTRE) / PHI_SPREAD,
        log_scale(ue_step), np.full(b, log_scale(costs.es_step)),
        np.clip(np.log10(np.maximum(ue_step, TINY) / np.maximum(es, TINY)) / 2.0,
                -3.0, 3.0),
        signed_share(ue_step, es),               # which of ES and UE takes the y steps,
        np.tanh(10.0 * np.log10(np.maximum(ue_step, TINY) / np.maximum(es, TINY))),
        np.tanh(100.0 * np.log10(np.maximum(ue_step, TINY) / np.maximum(es, TINY))),
        np.full(b, log_scale(costs.wait_step)),
        np.full_like(f, flags[0]), np.full_like(f, flags[1]),
        log_scale(lost),                         # on the costs' scale: each step's trade-off
        signed_share(saving[:, None], lost),     # does common step x pay for itself?
    ])
    group = np.column_stack([
        2.0 * np.log1p(members) / MEMBERS_SCALE - 1.0,
        log_scale(per_member), log_scale(members * costs.wait_step),
        log_scale(common),
        np.full(len(members), flags[0]), np.full(len(members), flags[1]),
    ])
    allows = np.full(len(key), bool(state.allows_common_phase))
    wait = 0.0 if costs.early_handoff else costs.wait_step
    return Observation(ue=ue.astype(np.float32), group=group.astype(np.float32), row=row,
                       allows_common=allows, key=key,
                       ue_scale=np.maximum(ue_step + es + lost.max(axis=1), TINY),
                       group_cost=members * wait + common, quality=quality, ue_step=ue_step,
                       es_step=es,
                       own_wait_step=np.full(b, costs.wait_step if costs.early_handoff
                                             else 0.0),
                       total_steps=np.full(b, costs.total_steps))


def concat(observations: list[Observation]) -> Observation:
    """Several cells' observations as one batch (rows renumbered; keys kept per cell)."""
    offsets = np.cumsum([0] + [len(o.group) for o in observations[:-1]])
    return Observation(
        ue=np.concatenate([o.ue for o in observations]),
        group=np.concatenate([o.group for o in observations]),
        row=np.concatenate([o.row + k for o, k in zip(observations, offsets, strict=True)]),
        allows_common=np.concatenate([o.allows_common for o in observations]),
        key=np.concatenate([o.key for o in observations]),
        ue_scale=np.concatenate([o.ue_scale for o in observations]),
        group_cost=np.concatenate([o.group_cost for o in observations]),
        quality=np.concatenate([o.quality for o in observations]),
        **{name: np.concatenate([getattr(o, name) for o in observations])
           for name in ("ue_step", "es_step", "own_wait_step", "total_steps")})
