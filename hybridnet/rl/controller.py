"""The HID controller on the ES: what each actor observes and how a slot's decision is made.

Two designs share this code (``[train] mode``):

``paper``
    The paper's HID. Actor n sees UE n's normalised conditions and draws
    (x_n, y_n) from one masked categorical over all feasible pairs.

``default``
    A group actor (one network shared by all groups) first draws each group's
    common steps X_m from a summary of the group. Then one UE actor, shared by
    every UE, sees each UE's own conditions and X_m of its group and draws
    the offset d_n = X_m - x_n and y_n jointly (the best y depends on x).
    Under (13) a member waits for X_m anyway, so choosing X once per group,
    where its cost is paid, removes the coordination problem that the max in
    (1) poses to independent actors; sharing one network lets the UE actor
    learn from every UE's decisions, which differ only in what they observe.

docs/controller.md derives what each actor needs to observe from the oracle.

Every array that describes slots may carry a leading slot dimension S: the
closed-form training engine decides a whole episode's slots in one batched
call, which is exact because a slot's action never changes later slots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from hybridnet.model.actions import action_mask
from hybridnet.model.channel import path_loss_db
from hybridnet.model.reference import training_engine
from hybridnet.model.slot import Queues, SlotState
from hybridnet.policies.fluid import PRICE_START, FluidPolicy, PlannedSlots, Priced
from hybridnet.policies.oracle import SlotSolution
from hybridnet.rl.distributions import MaskedCategorical
from hybridnet.rl.networks import ActorCritic
from hybridnet.scenario import Scenario
from hybridnet.threads import torch_threads

KEEP_UP_TOLERANCE = 0.1
"""``[train] behind_slots`` holds a UE only where the fluid policy's answer overflows its slot
by at most this share of it: such a UE can keep up. Where no decision keeps the cell stable
the teacher lets slow UEs overflow by far more, by design, and holding HID to that sends
more work to the ES than it serves (docs/controller.md gives the runs)."""

DECIDE_THREADS = 1
"""torch CPU threads while deciding a slot (:meth:`HidController.decide`)."""

PHI_CENTRE = 0.5
PHI_SPREAD = 0.3
"""phi is normalised as (phi - 0.5) / 0.3: the measured 0.2-0.8 range maps to [-1, 1]."""


def es_price_feature(price: np.ndarray) -> np.ndarray:
    """The ES's shadow price (reward per second of ES work) as observed: log1p(price /
    PRICE_START) / 10."""
    return np.log1p(price / PRICE_START) / 10.0


def _unit(value: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map [lo, hi] affinely onto [-1, 1] (0 when the range is a point)."""
    if hi <= lo:
        return np.zeros_like(value, dtype=float)
    return 2.0 * (value - lo) / (hi - lo) - 1.0


def as_batch(state: SlotState) -> SlotState:
    """View a single slot (N,) as a batch of one slot (1, N)."""
    if state.phi.ndim == 2:
        return state
    return stack_slots([state])


def stack_slots(states: list[SlotState]) -> SlotState:
    """Stack single-slot states into one batch (S, N); the group count is the largest."""
    measured = [s.queues for s in states if s.queues is not None]
    return SlotState(
        f_ue_hz=np.stack([s.f_ue_hz for s in states]), phi=np.stack([s.phi for s in states]),
        group=np.stack([s.group for s in states]), gain=np.stack([s.gain for s in states]),
        num_groups=max(s.num_groups for s in states),
        allows_common_phase=all(s.allows_common_phase for s in states),
        queues=Queues.stack([s.observed_queues for s in states]) if measured else None,
    )


@dataclass
class GroupRows:
    """The non-empty (slot, group) pairs of a batch of slots: the group actor's samples."""

    slot: np.ndarray
    group: np.ndarray
    members: np.ndarray
    of_ue: np.ndarray
    """Row of every UE's group, (S, N)."""


@dataclass
class LevelStep:
    """What one population of actors saw and did: tensors (A, B, ...) on the model's device."""

    obs: torch.Tensor
    masks: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    values: torch.Tensor | None


@dataclass
class Decision:
    """A decided batch of slots."""

    x: np.ndarray
    y: np.ndarray
    """Step splits (S, N)."""
    ue: LevelStep
    """The UE actors' step, (N, S, ...)."""
    group: LevelStep | None = None
    """The group actor's step (1, R, ...); None in paper mode or when X_m was drawn at random."""
    rows: GroupRows | None = None
    bound: np.ndarray | None = None
    """Default mode: X_m of every UE's group (S, N), the bound its choice was made under."""
    fluid: SlotSolution | None = None
    """The fluid policy's solution the actors observed (:meth:`Features.fluid_plan`), for
    actors that see the queues: on the DES, the teacher's targets for these slots."""


@dataclass(frozen=True)
class _Draw:
    """How a decision draws: greedily or from ``generator``, with the critics' values or not."""

    greedy: bool
    generator: torch.Generator | None
    values: bool


class Features:
    """Normalised observations, from ranges known in advance (no running statistics).

    Fixed affine maps keep a checkpoint self-contained and make the same slot
    give the same observation in training, in the DES and in the PettingZoo env.
    """

    UE_DIM = 5
    GROUP_DIM = 10
    UE_QUEUE_DIM = 5
    GROUP_QUEUE_DIM = 5
    """Queue features, observed by actors trained on the DES (``train.engine``): a UE sees
    its own CPU backlog, its last request's waiting, the ES backlog and the downlink's
    transmissions in flight; a group its ES backlog, its members' mean and largest
    backlog and the common steps the fluid policy plans for it. Backlogs are in slots
    (log1p(s / slot_s)): a queue that grows without bound stays in a range a network
    can read. Both also see the ES's shadow price in the slot (:func:`es_price_feature`):
    how scarce the ES is in the whole cell, which no group's own state tells.
    docs/controller.md's tables list them."""

    def __init__(self, scenario: Scenario) -> None:
        ue, ch = scenario.ue, scenario.channel
        self.sees_queues = training_engine(scenario) == "des"
        self.fluid = FluidPolicy.from_scenario(scenario)
        """What the queue features' plan and price come from (:meth:`fluid_plan`)."""
        self.slot_s = scenario.sim.slot_s
        self.ue_dim = self.UE_DIM + (self.UE_QUEUE_DIM if self.sees_queues else 0)
        self.group_dim = self.GROUP_DIM + (self.GROUP_QUEUE_DIM if self.sees_queues else 0)
        self.f_range = (ue.freq_min_hz, ue.freq_max_hz)
        # Gain in dB spans -PL(d_max) .. -PL(d_min) without fading.
        self.gain_db_range = (
            -float(path_loss_db(ch.distance_max_m, ch.pathloss_at_1km_db, ch.pathloss_slope_db)),
            -float(path_loss_db(ch.distance_min_m, ch.pathloss_at_1km_db, ch.pathloss_slope_db)),
        )
        self.x_max = scenario.steps.x_max

    def fluid_plan(self, state: SlotState, planned: PlannedSlots | None = None
                   ) -> Priced | None:
        """The fluid policy's solution of ``state`` and its ES price, which the queue
        features observe (None for actors that see no queues); ``planned``: slots solved
        ahead (:meth:`~hybridnet.policies.fluid.FluidPolicy.plan_ahead`)."""
        if not self.sees_queues:
            return None
        return self.fluid.solve_priced(state, planned=planned)

    def _per_ue(self, state: SlotState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = _unit(state.f_ue_hz, *self.f_range)
        phi = (state.phi - PHI_CENTRE) / PHI_SPREAD
        gain = _unit(10.0 * np.log10(state.gain), *self.gain_db_range)
        return f, phi, gain

    def groups(self, state: SlotState, plan: Priced | None) -> tuple[GroupRows, np.ndarray]:
        """The non-empty groups of every slot and their summaries (R, group_dim).

        ``plan``: :meth:`fluid_plan` of ``state``, which the queue features read.
        """
        s_count, n = state.phi.shape
        m = state.num_groups
        key = state.group_keys()
        f, phi, gain = (a.ravel() for a in self._per_ue(state))
        bins = s_count * m
        count = np.bincount(key, minlength=bins).astype(float)
        present = np.flatnonzero(count)
        safe = np.maximum(count, 1.0)

        def mean(values: np.ndarray) -> np.ndarray:
            return np.bincount(key, values, minlength=bins) / safe

        def spread(values: np.ndarray) -> list[np.ndarray]:
            """Mean, standard deviation, least and largest over each group's members."""
            average = mean(values)
            low = np.full(bins, np.inf)
            high = np.full(bins, -np.inf)
            np.minimum.at(low, key, values)
            np.maximum.at(high, key, values)
            return [average, np.sqrt(np.maximum(mean(values * values) - average**2, 0.0)),
                    low, high]

        parts = [2.0 * count / n - 1.0, *spread(phi), mean(f), mean(gain), *spread(f)[1:]]
        if self.sees_queues:
            assert plan is not None, "actors that see the queues observe the fluid plan"
            q = state.observed_queues
            backlog = self._slots(q.ue_backlog_s).ravel()
            high = np.full(bins, -np.inf)
            np.maximum.at(high, key, backlog)
            solution, price = plan
            planned_x = _unit(solution.group_bound, 0.0, float(self.x_max)).ravel()
            parts += [np.repeat(self._slots(q.es_backlog_s), m), mean(backlog), high,
                      planned_x, np.repeat(es_price_feature(price).ravel(), m)]  # price last
        obs = np.stack(parts, axis=-1)[present]
        row_of_bin = np.full(bins, -1)
        row_of_bin[present] = np.arange(len(present))
        rows = GroupRows(slot=present // m, group=present % m, members=count[present],
                         of_ue=row_of_bin[key].reshape(s_count, n))
        return rows, obs

    def _slots(self, work_s: np.ndarray) -> np.ndarray:
        return np.log1p(np.asarray(work_s, dtype=float) / self.slot_s)

    def ue(self, state: SlotState, rows: GroupRows, group_obs: np.ndarray,
           bound: np.ndarray | None) -> np.ndarray:
        """Per-UE observations (N, S, ue_dim [+1 with the bound X_m])."""
        f, phi, gain = self._per_ue(state)
        own = group_obs[rows.of_ue]                         # (S, N, group_dim)
        parts = [f, phi, gain, own[..., 0], own[..., 1]]    # own group's share and mean phi
        if self.sees_queues:
            q = state.observed_queues
            n = state.num_ues
            parts += [self._slots(q.ue_backlog_s), self._slots(q.last_wait_s),
                      np.broadcast_to(self._slots(q.es_backlog_s)[..., None], f.shape),
                      np.broadcast_to((q.downlink_in_flight / n)[..., None], f.shape),
                      own[..., -1]]                        # the ES's price
        if bound is not None:
            parts.append(_unit(bound, 0.0, float(self.x_max)))
        return np.stack(parts, axis=-1).transpose(1, 0, 2)


class HidController(nn.Module):
    """The actors (and critics) the ES controller queries every slot."""

    def __init__(self, scenario: Scenario, generator: torch.Generator | None = None) -> None:
        super().__init__()
        steps, tr = scenario.steps, scenario.train
        self.mode = tr.mode
        self.behind_slots = tr.behind_slots
        self.features = Features(scenario)
        self.num_x = steps.x_max + 1
        self.num_y = steps.y_max + 1
        self.masks = {allow: torch.from_numpy(action_mask(steps, allow))
                      for allow in (True, False)}
        bounds = torch.arange(self.num_x)
        self.offset_masks = {allow: self._offset_mask(mask, (bounds[:, None] - bounds)[None])[0]
                             for allow, mask in self.masks.items()}
        """Default mode: the (offset, y) pairs a UE may choose under each bound X_m (X, X, Y),
        computed once: a slot looks its UEs' masks up by their group's X_m."""
        hidden = tuple(tr.hidden)
        n = scenario.network.num_ues
        if self.mode == "paper":
            self.ue = ActorCritic(n, self.features.ue_dim, self.num_x * self.num_y, hidden,
                                  generator)
            self.group: ActorCritic | None = None
        else:
            self.group = ActorCritic(1, self.features.group_dim, self.num_x, hidden,
                                     generator)
            self.ue = ActorCritic(1, self.features.ue_dim + 1, self.num_x * self.num_y, hidden,
                                  generator)

    @property
    def device(self) -> torch.device:
        """Where the networks are (one module moves all): the UE actors' first weights'
        device, read directly, since walking ``parameters()`` cost a slot ~0.4 ms."""
        return self.ue.actor.weights[0].device

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, dtype=torch.float32, device=self.device)

    def _keeps_up(self, state: SlotState, bound: np.ndarray, x_of_d: torch.Tensor,
                  taught: SlotSolution) -> torch.Tensor:
        """The (offset, y) choices a UE may take (1, N*S, X, Y): where its CPU backlog exceeds
        ``[train] behind_slots`` slots, only those whose phase II work (eq. 8) is at most one
        slot, or at most what the fluid policy's answer (``taught``) to its group's X_m costs
        if more.

        A UE that takes more than a slot of work every slot grows its queue for
        ever. Once it is falling behind it keeps within its slot, or overflows
        no more than the fluid policy would (which lets a UE overflow only where
        no decision keeps the cell stable and the UE's overload delays fewer
        requests than the ES's would), unless that answer overflows by more
        than KEEP_UP_TOLERANCE: such a UE falls behind by design. Below that
        the actor chooses freely: a phase II beyond the slot now and then
        queues nothing for long. The fluid policy's own answer is always
        allowed, so no UE is left without a choice.
        """
        fluid = self.features.fluid
        work_s = fluid.ue_work_s(state)                                   # (S, N, X, Y)
        x_t, y_t = taught.respond(bound)
        taught_s = np.take_along_axis(np.take_along_axis(
            work_s, x_t[..., None, None], axis=-2)[..., 0, :], y_t[..., None], axis=-1)[..., 0]
        s_count, n = state.phi.shape

        def ue_major(a: np.ndarray) -> torch.Tensor:
            """(S, N, ...) as the shared actor's samples (1, N*S, ...)."""
            a = np.swapaxes(a, 0, 1)
            return torch.as_tensor(a.reshape(1, n * s_count, *a.shape[2:]), device=self.device)

        limit_s = ue_major(np.maximum(taught_s, fluid.slot_s))
        behind = ue_major((state.observed_queues.ue_backlog_s > self.behind_slots * fluid.slot_s)
                          & (taught_s <= (1.0 + KEEP_UP_TOLERANCE) * fluid.slot_s))
        per_offset = torch.take_along_dim(ue_major(work_s)[0], x_of_d.clamp(min=0)[0, ..., None],
                                          dim=1)[None]                     # (1, N*S, X, Y)
        return (per_offset <= limit_s[..., None, None]) | ~behind[..., None, None]

    def decide(self, state: SlotState, *, greedy: bool,
               generator: torch.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One slot's splits x, y (N,): :meth:`act`'s, as the ES controller asks for them.

        Under inference mode (no autograd bookkeeping) and on DECIDE_THREADS torch
        threads: the networks are small, and on shared cores a second OpenMP thread
        made the same matmuls 30-60 times slower (benchmarks/bench_decide.py).
        """
        with torch.inference_mode(), torch_threads(DECIDE_THREADS):
            decision = self.act(state, greedy=greedy, generator=generator)
        return decision.x[0], decision.y[0]

    @torch.no_grad()
    def act(self, state: SlotState, *, greedy: bool, generator: torch.Generator | None = None,
            random_bound: np.random.Generator | None = None, values: bool = False,
            planned: PlannedSlots | None = None) -> Decision:
        """Decide every UE's (x, y) for a slot (N,) or a batch of slots (S, N).

        ``random_bound`` (default mode, training only) draws every X_m uniformly
        from the feasible values instead of asking the group actor, so the UE
        actors also learn their best response to bounds the group actor avoids.
        ``planned``: the fluid policy's plans of slots solved ahead, which the
        queue features are answered from where they hold the slot.
        """
        state = as_batch(state)
        feasible = self.masks[state.allows_common_phase].to(self.device)   # (X, Y)
        plan = self.features.fluid_plan(state, planned)
        taught = None if plan is None else plan[0]
        rows, group_obs = self.features.groups(state, plan)
        draw = _Draw(greedy, generator, values)
        if self.mode == "paper":
            obs = self._tensor(self.features.ue(state, rows, group_obs, None))
            mask = feasible.flatten().expand(obs.shape[0], obs.shape[1], -1)
            action, step = self._step(self.ue, obs, mask, draw)
            x = (action // self.num_y).T.cpu().numpy()
            y = (action % self.num_y).T.cpu().numpy()
            return Decision(x=x, y=y, ue=step, fluid=taught)
        bound_rows, group_step = self._bounds(group_obs, feasible.any(1), random_bound, draw)
        bound = bound_rows[rows.of_ue]                                     # (S, N)
        obs = self._tensor(self.features.ue(state, rows, group_obs, bound))
        n, s_count = obs.shape[:2]
        # One shared network: every (UE, slot) is a sample of the same actor.
        shared_obs = obs.reshape(1, n * s_count, -1)
        bound_t = torch.as_tensor(bound.T.reshape(1, -1), device=self.device)   # (1, N*S)
        offsets = torch.arange(self.num_x, device=self.device)
        x_of_d = bound_t.unsqueeze(-1) - offsets                           # (1, N*S, X)
        mask = self.offset_masks[state.allows_common_phase].to(self.device)[bound_t]
        if taught is not None and self.behind_slots > 0:
            mask = mask & self._keeps_up(state, bound, x_of_d, taught)
        action, step = self._step(self.ue, shared_obs, mask.flatten(-2), draw)
        x = bound_t - action // self.num_y
        y = action % self.num_y
        return Decision(x=x.reshape(n, s_count).T.cpu().numpy(),
                        y=y.reshape(n, s_count).T.cpu().numpy(), ue=step, group=group_step,
                        rows=rows, bound=bound, fluid=taught)

    def _step(self, actors: ActorCritic, obs: torch.Tensor, mask: torch.Tensor, draw: _Draw
              ) -> tuple[torch.Tensor, LevelStep]:
        """One population's choice among ``mask`` and what training keeps of it."""
        dist = MaskedCategorical(actors.actor(obs), mask)
        action = dist.mode() if draw.greedy else dist.sample(draw.generator)
        return action, LevelStep(obs, mask, action, dist.log_prob(action),
                                 actors.value(obs) if draw.values else None)

    def _bounds(self, group_obs: np.ndarray, x_ok: torch.Tensor,
                random_bound: np.random.Generator | None, draw: _Draw
                ) -> tuple[np.ndarray, LevelStep | None]:
        """Every group row's X_m (R,): the group actor's, or drawn uniformly from the
        feasible values with ``random_bound``; and the group actor's step (None if drawn)."""
        if random_bound is not None:
            choices = np.flatnonzero(x_ok.cpu().numpy())
            return choices[random_bound.integers(len(choices), size=len(group_obs))], None
        assert self.group is not None
        g_obs = self._tensor(group_obs)[None]
        g_action, group_step = self._step(self.group, g_obs,
                                          x_ok.expand(1, g_obs.shape[1], -1), draw)
        return g_action[0].cpu().numpy(), group_step

    def _offset_mask(self, feasible: torch.Tensor, x_of_d: torch.Tensor) -> torch.Tensor:
        """The (offset, y) pairs a UE may choose under its bound (1, N*S, X, Y): x = X_m -
        offset feasible, and y feasible with that x (y's set depends on x)."""
        x_ok = feasible.any(1)
        d_ok = (x_of_d >= 0) & x_ok[x_of_d.clamp(min=0)]
        return d_ok.unsqueeze(-1) & feasible[x_of_d.clamp(min=0)]
