"""Baseline policies and the exact oracle (checked against brute force)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from hybridnet.errors import HybridnetError
from hybridnet.model.actions import action_mask
from hybridnet.model.costs import downlink_rate_bps, tx_delay_s, ue_costs
from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import Queues, SlotState
from hybridnet.policies import make_policy
from hybridnet.policies.fluid import FluidPolicy
from hybridnet.policies.oracle import OraclePolicy
from hybridnet.rl.controller import stack_slots
from hybridnet.scenario import from_dict


def _state(rng: np.random.Generator, n: int, m: int, allows: bool = True) -> SlotState:
    return SlotState(
        f_ue_hz=rng.uniform(1.4e9, 1.6e9, n), phi=rng.uniform(0.1, 0.9, n),
        group=rng.integers(0, m, n), gain=10 ** rng.uniform(-11, -9, n), num_groups=m,
        allows_common_phase=allows,
    )


def _brute_force_best(params: ModelParams, steps, state: SlotState) -> float:
    pairs = np.argwhere(action_mask(steps, state.allows_common_phase))
    combos = np.array(list(itertools.product(range(len(pairs)), repeat=state.num_ues)))
    x = pairs[combos, 0]
    y = pairs[combos, 1]
    batch = len(combos)
    batched = SlotState(
        f_ue_hz=np.broadcast_to(state.f_ue_hz, (batch, state.num_ues)),
        phi=np.broadcast_to(state.phi, (batch, state.num_ues)),
        group=np.broadcast_to(state.group, (batch, state.num_ues)),
        gain=np.broadcast_to(state.gain, (batch, state.num_ues)), num_groups=state.num_groups,
    )
    return float(evaluate(params, batched, x, y).reward.max())


TINY_STEPS = {"total": 6, "x_max": 3, "y_min": 0, "y_max": 3, "z_min": 1, "z_max": 6}


@pytest.mark.parametrize("early_handoff", [False, True])
@pytest.mark.parametrize("weights", [[0.6, 0.2, 0.2], [0.2, 0.4, 0.4], [0.9, 0.05, 0.05]])
@pytest.mark.parametrize("qos_model", ["paper", "fitted"])
def test_oracle_equals_brute_force_on_tiny_instances(early_handoff, weights, qos_model):
    scenario = from_dict({
        "network": {"num_ues": 3, "num_groups": 2}, "steps": TINY_STEPS,
        "reward": {"weights": weights}, "sim": {"early_handoff": early_handoff},
        "qos": {"model": qos_model},
    })
    params = ModelParams.from_scenario(scenario)
    oracle = OraclePolicy(scenario.steps, params)
    rng = np.random.default_rng(7)
    for _ in range(6):
        state = _state(rng, 3, 2)
        x, y = oracle.decide(state)
        got = float(evaluate(params, state, x, y).reward)
        assert got == pytest.approx(_brute_force_best(params, scenario.steps, state), abs=1e-12)
        assert action_mask(scenario.steps)[x, y].all()


def test_oracle_respects_iis():
    scenario = from_dict({"network": {"num_ues": 3}, "steps": TINY_STEPS})
    params = ModelParams.from_scenario(scenario)
    state = _state(np.random.default_rng(1), 3, 2, allows=False)
    x, _ = OraclePolicy(scenario.steps, params).decide(state)
    assert (x == 0).all()
    assert float(evaluate(params, state, *OraclePolicy(scenario.steps, params).decide(state))
                 .reward) == pytest.approx(_brute_force_best(params, scenario.steps, state))


@pytest.mark.parametrize("weights", [[0.6, 0.2, 0.2], [0.2, 0.4, 0.4]])
def test_oracle_never_beaten_by_fixed_or_random(weights):
    scenario = from_dict({"reward": {"weights": weights}})
    params = ModelParams.from_scenario(scenario)
    rng = np.random.default_rng(3)
    oracle = make_policy("oracle", scenario, rng)
    others = [make_policy(f"fixed:{x},{y}", scenario, rng)
              for x, y in np.argwhere(action_mask(scenario.steps))[::7]]
    others += [make_policy("random", scenario, rng), make_policy("local", scenario, rng)]
    for _ in range(10):
        state = _state(rng, 50, 2)
        best = float(evaluate(params, state, *oracle.decide(state)).reward)
        for policy in others:
            assert float(evaluate(params, state, *policy.decide(state)).reward) <= best + 1e-12


def test_random_policy_only_draws_feasible_pairs():
    scenario = from_dict({"steps": {"z_min": 4, "z_max": 20}})
    rng = np.random.default_rng(0)
    policy = make_policy("random", scenario, rng)
    x, y = policy.decide(_state(rng, 5000, 3))
    assert action_mask(scenario.steps)[x, y].all()
    assert len(set(zip(x.tolist(), y.tolist(), strict=True))) == action_mask(scenario.steps).sum()


def test_local_policy_runs_everything_on_the_ue():
    scenario = from_dict({})
    x, y = make_policy("local", scenario, np.random.default_rng(0)).decide(
        _state(np.random.default_rng(0), 4, 2))
    assert (x == 0).all() and (y == 0).all()


@pytest.mark.parametrize("spec,match", [("fixed:20,0", "infeasible"), ("fixed:a,b", "fixed:X,Y"),
                                        ("greedy", "unknown policy")])
def test_bad_policy_specs(spec, match):
    with pytest.raises(HybridnetError, match=match):
        make_policy(spec, from_dict({}), np.random.default_rng(0))


@pytest.mark.parametrize("early_handoff", [False, True])
def test_best_responses_are_the_best_split_under_every_bound(early_handoff):
    """What the default HID's UE actor is taught: UE n's best (x <= X, y), by brute force.

    UE n's own terms of (17a), its group's common phase running X steps: it
    waits for X (eq. 13), or for its own x with early hand-off.
    """
    scenario = from_dict({"network": {"num_ues": 4, "num_groups": 2}, "steps": TINY_STEPS,
                          "reward": {"weights": [0.4, 0.3, 0.3]},
                          "sim": {"early_handoff": early_handoff}})
    params = ModelParams.from_scenario(scenario)
    p = params.physics
    q_unit, t_unit, e_unit = params.reward.per_unit(4)
    oracle = OraclePolicy(scenario.steps, params)
    state = _state(np.random.default_rng(3), 4, 2)
    solution = oracle.solve(state)
    t_tx = tx_delay_s(p, downlink_rate_bps(p, state.gain))
    pairs = list(zip(*np.nonzero(action_mask(scenario.steps)), strict=True))
    for bound in range(scenario.steps.x_max + 1):
        x, y = solution.respond(np.full(4, bound))
        for ue in range(4):
            def own(split, ue=ue, bound=bound):
                a, b = split
                c = ue_costs(p, a, b, waited_steps=a if early_handoff else bound,
                             f_ue_hz=state.f_ue_hz[ue], phi=state.phi[ue], t_tx_s=t_tx[ue])
                return float(q_unit * c.qos - t_unit * c.delay_s - e_unit * c.own_energy_j)
            best = max(own(pair) for pair in pairs if pair[0] <= bound)
            assert x[ue] <= bound
            assert own((x[ue], y[ue])) == pytest.approx(best, abs=1e-12)


def test_one_batched_solve_equals_a_solve_per_slot():
    scenario = from_dict({"network": {"num_ues": 12, "num_groups": 3},
                          "reward": {"weights": [0.4, 0.3, 0.3]}})
    oracle = OraclePolicy(scenario.steps, ModelParams.from_scenario(scenario))
    rng = np.random.default_rng(5)
    states = [_state(rng, 12, 3) for _ in range(5)]
    batch = SlotState(f_ue_hz=np.stack([s.f_ue_hz for s in states]),
                      phi=np.stack([s.phi for s in states]),
                      group=np.stack([s.group for s in states]),
                      gain=np.stack([s.gain for s in states]), num_groups=3)
    x, y = oracle.solve(batch).optimum(batch.group)
    for k, state in enumerate(states):
        want_x, want_y = oracle.decide(state)
        np.testing.assert_array_equal(x[k], want_x)
        np.testing.assert_array_equal(y[k], want_y)


def _dpp_objective(scenario, params, state, x, y, v_s2: float) -> np.ndarray:
    """V * reward - backlog-weighted work, written out from the scenario's numbers."""
    q = state.observed_queues
    st, ue, es = scenario.steps, scenario.ue, scenario.edge
    z = st.total - x - y
    ue_work_s = z * ue.cycles_per_step / state.f_ue_hz                       # eq. (8)
    groups = np.arange(state.num_groups)
    common_steps = np.stack([np.where(state.group == m, x, 0).max(-1) for m in groups], -1)
    es_work_s = (common_steps.sum(-1) + y.sum(-1)) * es.cycles_per_step / es.freq_hz  # (1), (3)
    drift = ((q.ue_backlog_s * ue_work_s).sum(-1)
             + state.num_ues * q.es_backlog_s * es_work_s / es.backlog_units)
    return v_s2 * evaluate(params, state, x, y).reward - drift


@pytest.mark.parametrize("early_handoff", [False, True])
@pytest.mark.parametrize("v_s2", [0.01, 1.0, 100.0])
def test_dpp_is_the_exact_maximiser_of_drift_plus_penalty(early_handoff, v_s2):
    scenario = from_dict({
        "network": {"num_ues": 3, "num_groups": 2}, "steps": TINY_STEPS,
        "edge": {"scheduler": "fcfs", "compute_units": 2},
        "sim": {"early_handoff": early_handoff, "dpp_v": v_s2},
    })
    params = ModelParams.from_scenario(scenario)
    dpp = make_policy("dpp", scenario, np.random.default_rng(0))
    rng = np.random.default_rng(3)
    pairs = np.argwhere(action_mask(scenario.steps))
    combos = np.array(list(itertools.product(range(len(pairs)), repeat=3)))
    for _ in range(4):
        base = _state(rng, 3, 2)
        queues = Queues(ue_backlog_s=rng.uniform(0, 2, 3),
                        es_backlog_s=np.asarray(rng.uniform(0, 1)),
                        downlink_in_flight=np.asarray(2.0), downlink_bits=np.asarray(1e6),
                        last_delay_s=np.zeros(3), last_wait_s=np.zeros(3))
        state = dataclasses.replace(base, queues=queues)
        x, y = dpp.decide(state)
        got = float(_dpp_objective(scenario, params, state, x, y, v_s2))
        batch = len(combos)
        many = SlotState(
            f_ue_hz=np.broadcast_to(state.f_ue_hz, (batch, 3)),
            phi=np.broadcast_to(state.phi, (batch, 3)),
            group=np.broadcast_to(state.group, (batch, 3)),
            gain=np.broadcast_to(state.gain, (batch, 3)), num_groups=2,
            queues=Queues.stack([queues] * batch))
        best = _dpp_objective(scenario, params, many, pairs[combos, 0], pairs[combos, 1], v_s2)
        assert got == pytest.approx(float(best.max()), rel=1e-12, abs=1e-12)


def test_dpp_without_queues_is_the_oracle():
    scenario = from_dict({"network": {"num_ues": 40, "num_groups": 4}})
    params = ModelParams.from_scenario(scenario)
    rng = np.random.default_rng(5)
    dpp = make_policy("dpp", scenario, rng)
    oracle = OraclePolicy(scenario.steps, params)
    for _ in range(5):
        state = _state(rng, 40, 4)
        for got, want in zip(dpp.decide(state), oracle.decide(state), strict=True):
            np.testing.assert_array_equal(got, want)


def test_fluid_is_the_oracle_where_capacity_is_ample():
    scenario = from_dict({"network": {"num_ues": 40, "num_groups": 4},
                          "edge": {"scheduler": "fcfs", "compute_units": 8}})
    params = ModelParams.from_scenario(scenario)
    rng = np.random.default_rng(9)
    fluid = make_policy("fluid", scenario, rng)
    oracle = OraclePolicy(scenario.steps, params)
    for _ in range(5):
        state = _state(rng, 40, 4)
        for got, want in zip(fluid.decide(state), oracle.decide(state), strict=True):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("early_handoff", [False, True])
def test_fluid_keeps_every_load_within_its_capacity(early_handoff):
    """Slow UEs and a small ES: the oracle overloads both, the fluid policy neither."""
    scenario = from_dict({
        "network": {"num_ues": 60, "num_groups": 6},
        "ue": {"freq_min_hz": 0.8e9, "freq_max_hz": 2.0e9},
        "edge": {"scheduler": "fcfs", "compute_units": 2},
        "sim": {"slot_s": 0.3, "early_handoff": early_handoff},
    })
    params = ModelParams.from_scenario(scenario)
    p = params.physics
    rng = np.random.default_rng(11)
    fluid = make_policy("fluid", scenario, rng)
    oracle = OraclePolicy(scenario.steps, params)
    es_capacity_s = 0.9 * 2 * 0.3
    st = scenario.steps

    def loads(state, x, y):
        z = st.total - x - y
        ue_s = z * p.ue_cycles_per_step / state.f_ue_hz                           # eq. (8)
        x_max = np.array([x[state.group == m].max(initial=0) for m in range(6)])
        es_s = (x_max.sum() + y.sum()) * p.es_cycles_per_step / p.es_freq_hz     # eq. (1), (3)
        return ue_s, es_s

    for _ in range(4):
        state = dataclasses.replace(_state(rng, 60, 6),
                                    f_ue_hz=rng.uniform(0.8e9, 2.0e9, 60))
        ue_s, es_s = loads(state, *oracle.decide(state))
        assert ue_s.max() > 0.3                           # the oracle overloads slow UEs
        x, y = fluid.decide(state)
        ue_s, es_s = loads(state, x, y)
        assert ue_s.max() <= 0.3 + 1e-12
        assert es_s <= es_capacity_s + 1e-12
        assert action_mask(st)[x, y].all()


@pytest.mark.parametrize("es_backlog_s", [0.0, 0.05])
def test_fluid_spreads_an_overload_where_it_delays_fewest_requests(es_backlog_s):
    """Two UEs too slow for 0.2 s slots, each alone in its group, one ES unit: no decision
    keeps both CPUs within a slot and the ES within its plan (90 % of it). Over every
    feasible pair of splits, the fluid policy's decision grows the requests' waiting
    least: a UE's overload delays its own request, the ES's each of the N requests
    (eq. 1, 3, 8). The ES serves what its backlog leaves of the slot, all of it when
    nothing is queued: a backlog moves the decision onto the UEs."""
    scenario = from_dict({
        "network": {"num_ues": 2, "num_groups": 2},
        "edge": {"scheduler": "fcfs", "compute_units": 1},
        "sim": {"slot_s": 0.2},
    })
    params = ModelParams.from_scenario(scenario)
    p, st = params.physics, scenario.steps
    queues = dataclasses.replace(Queues.idle((), 2), es_backlog_s=np.array(es_backlog_s))
    state = SlotState(f_ue_hz=np.array([0.8e9, 0.9e9]), phi=np.array([0.4, 0.6]),
                      group=np.array([0, 1]), gain=np.array([1e-10, 1e-10]), num_groups=2,
                      queues=queues)
    room_s = 0.2 - es_backlog_s

    def growth_s(x, y):
        ue_s = (st.total - x - y) * p.ue_cycles_per_step / state.f_ue_hz            # eq. (8)
        es_s = (x + y).sum(axis=-1) * p.es_cycles_per_step / p.es_freq_hz           # eq. (1), (3)
        return np.maximum(ue_s - 0.2, 0).sum(axis=-1) + 2 * np.maximum(es_s - room_s, 0)

    pairs = np.argwhere(action_mask(st))
    combos = np.array(list(itertools.product(range(len(pairs)), repeat=2)))
    every = growth_s(pairs[combos, 0], pairs[combos, 1])
    assert every.min() > 0                                 # no decision is stable
    x, y = make_policy("fluid", scenario, np.random.default_rng(0)).decide(state)
    assert growth_s(x, y) == pytest.approx(every.min(), abs=1e-12)
    oracle_x, oracle_y = OraclePolicy(st, params).decide(state)
    assert growth_s(oracle_x, oracle_y) > every.min() + 0.01


def test_fluid_answers_prepared_slots_as_it_solves_them():
    """Training solves an episode's stable slots ahead in one batch (``plan_ahead``); a slot
    asked for later, with whatever queues, gets the very arrays solving it alone gives,
    and a slot the batch found overloaded (its plan depends on the ES backlog) is
    solved then, with its queues."""
    scenario = from_dict({
        "network": {"num_ues": 30, "num_groups": 3},
        "edge": {"scheduler": "fcfs", "compute_units": 1},
        "sim": {"slot_s": 0.3},
    })
    fluid = FluidPolicy.from_scenario(scenario)
    rng = np.random.default_rng(5)
    slots = [dataclasses.replace(_state(rng, 30, 3), f_ue_hz=rng.uniform(low_hz, 2.0e9, 30))
             for low_hz in (0.3e9, 1.9e9, 0.4e9, 1.8e9)]
    planned = fluid.plan_ahead(stack_slots(slots))
    queues = dataclasses.replace(Queues.idle((1,), 30), es_backlog_s=np.array([0.1]))
    stable = []
    for state in slots:
        asked = dataclasses.replace(stack_slots([state]), queues=queues)
        prepared = fluid.solve_priced(asked, planned=planned)
        solved = FluidPolicy.from_scenario(scenario).solve_priced(asked)
        np.testing.assert_array_equal(prepared[1], solved[1])
        for name in ("group_bound", "x_upto", "y_of_x"):
            np.testing.assert_array_equal(getattr(prepared[0], name), getattr(solved[0], name))
        # answered from the batch
        stable.append(prepared[0] is fluid.solve_priced(asked, planned=planned)[0])
    assert stable == [False, True, False, True]
