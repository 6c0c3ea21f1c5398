"""Lyapunov drift-plus-penalty control: the queue-aware analytic yardstick.

Neely's drift-plus-penalty rule (M. J. Neely, *Stochastic Network
Optimization with Application to Communication and Queueing Systems*, 2010,
ch. 3; in MEC offloading e.g. Bi et al., "Lyapunov-guided deep reinforcement
learning for stable online computation offloading", IEEE TWC 2021) keeps
queues stable while it maximises a time-averaged reward: every slot it
minimises the penalty plus the drift bound of the quadratic Lyapunov
function L = (sum_n Q_n^2 + N Q_ES^2) / 2, which for the queues here reads

    maximise   V * R(x, y)  -  sum_n Q_n * a_n(z_n)  -  N * Q_ES * a_ES(X, y)

with R the slot reward (17a), Q_n UE n's CPU backlog and a_n = z_n c^UE /
f_n (eq. 8) the work the decision adds to it, Q_ES the ES backlog per compute
unit and a_ES = (sum_m t_common(X_m) + sum_n t_ES(y_n)) / units (eq. 1, 3)
what it adds there, all in seconds. The ES queue weighs N times a UE's: a
second of ES backlog delays every request that passes the ES (all N of a
slot's, for their common latent or phase I), a second of UE backlog only that
UE's. With equal weights the 300 UEs of ``scenarios/dense.toml`` each push
their work onto the one ES, whose backlog then settles some 100 times above
theirs (reward -9.1 at V = 100, against 0.08 with the weight N).

The service the queues receive does not depend on the decision and drops
out; so does the downlink, whose load (one latent per request) no decision
changes. V (s^2, ``[sim] dpp_v``) trades the
reward against the backlogs: V -> infinity is the queue-blind oracle; a
smaller V gives up reward to keep the queues shorter.

Both queue terms keep the oracle's decomposition (a per-UE cost of its own
(x_n, y_n), a per-group cost of X_m), so the rule is solved exactly by the
oracle's per-group enumeration (:class:`~hybridnet.policies.oracle.OraclePolicy`).
On the closed form every backlog is 0 and it decides as the oracle does.
"""

from __future__ import annotations

import numpy as np

from hybridnet.model.costs import common_delay_s, es_delay_s, ue_work_grid_s
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.oracle import OraclePolicy, Penalty
from hybridnet.scenario import Scenario, StepsConfig


class DppPolicy:
    """Each slot, the exact maximiser of V * reward - backlog-weighted work."""

    name = "dpp"

    def __init__(self, steps: StepsConfig, params: ModelParams, v_s2: float,
                 backlog_units: int) -> None:
        self.oracle = OraclePolicy(steps, params)
        self.steps = steps
        self.params = params
        self.v_s2 = v_s2
        self.backlog_units = backlog_units

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> DppPolicy:
        """The drift-plus-penalty policy of ``scenario``, V = ``[sim] dpp_v``, the ES backlog
        per :attr:`~hybridnet.scenario.EdgeConfig.backlog_units` unit."""
        return cls(scenario.steps, ModelParams.from_scenario(scenario), scenario.sim.dpp_v,
                   scenario.edge.backlog_units)

    def penalty(self, state: SlotState) -> Penalty:
        """The queue terms in reward units (divided by V), on the oracle's grids."""
        p, st, queues = self.params.physics, self.steps, state.observed_queues
        y = np.arange(st.y_max + 1)[None, :]
        ue_work_s = ue_work_grid_s(p, st.x_max, st.y_max, state.f_ue_hz)               # eq. (8)
        # N * Q_ES per second of work handed to the ES, which spreads over its units
        es_price = state.num_ues * queues.es_backlog_s[..., None, None] / self.backlog_units
        ue_cost = (queues.ue_backlog_s[..., None, None] * ue_work_s
                   + es_price[..., None] * es_delay_s(p, y))                         # eq. (3)
        group_cost = es_price * common_delay_s(p, np.arange(st.x_max + 1))           # eq. (1)
        return Penalty(ue=ue_cost / self.v_s2, group=group_cost / self.v_s2)

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        return self.oracle.solve(state, self.penalty(state)).optimum(state.group)
