"""Every equation of hybridnet.model against a value computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hybridnet.errors import HybridnetError
from hybridnet.model.actions import action_mask, local_split
from hybridnet.model.channel import (
    channel_gain,
    noise_psd_w_per_hz,
    path_loss_db,
    payload_bits,
    shannon_rate_bps,
    tx_delay_s,
    tx_energy_j,
)
from hybridnet.model.compute import processing_delay_s, processing_energy_j
from hybridnet.model.costs import downlink_rate_bps, ue_costs, ue_work_grid_s
from hybridnet.model.objective import evaluate, group_max
from hybridnet.model.params import ModelParams
from hybridnet.model.physics import PhysicsParams
from hybridnet.model.reference import reference_terms
from hybridnet.model.reward import RewardParams
from hybridnet.model.slot import SlotState
from hybridnet.scenario import Scenario, from_dict


def test_common_phase_eq1_eq2():
    # 5 common steps on the ES: 5 * 15e6 / 2e9 = 0.0375 s; 1e-27 * 5 * 15e6 * (2e9)^2 = 0.3 J
    assert processing_delay_s(5, 15e6, 2e9) == pytest.approx(0.0375, rel=1e-12)
    assert processing_energy_j(5, 15e6, 2e9, 1e-27) == pytest.approx(0.3, rel=1e-12)


def test_one_es_step_matches_design_magnitudes_eq3_eq4():
    # DESIGN: one ES step takes 7.5 ms and 0.06 J
    assert processing_delay_s(1, 15e6, 2e9) == pytest.approx(7.5e-3, rel=1e-12)
    assert processing_energy_j(1, 15e6, 2e9, 1e-27) == pytest.approx(0.06, rel=1e-12)


def test_ue_phase_eq8_eq9():
    # 10 UE steps at 1.5 GHz: 10 * 14e6 / 1.5e9 = 0.09333 s; 1e-27 * 1.4e8 * 2.25e18 = 0.315 J
    assert processing_delay_s(10, 14e6, 1.5e9) == pytest.approx(0.0933333333, rel=1e-9)
    assert processing_energy_j(10, 14e6, 1.5e9, 1e-27) == pytest.approx(0.315, rel=1e-12)
    # one UE step spans 8.75-10 ms and 0.027-0.036 J over f in [1.4, 1.6] GHz (DESIGN)
    assert processing_delay_s(1, 14e6, np.array([1.6e9, 1.4e9])) == pytest.approx([8.75e-3, 1e-2])
    assert processing_energy_j(1, 14e6, np.array([1.4e9, 1.6e9]), 1e-27) == pytest.approx(
        [0.02744, 0.03584])


def test_path_loss_and_noise():
    # 128.1 + 37.6 log10(0.1 km) = 90.5 dB; -174 dBm/Hz + 9 dB = -165 dBm/Hz = 10^-19.5 W/Hz
    assert path_loss_db(100.0, 128.1, 37.6) == pytest.approx(90.5)
    assert channel_gain(100.0, 128.1, 37.6) == pytest.approx(8.912509381337441e-10, rel=1e-12)
    assert noise_psd_w_per_hz(-174.0, 9.0) == pytest.approx(3.162277660168379e-20, rel=1e-12)


def test_shannon_rate_eq6():
    # SNR = 0.5 * 8.9125e-10 / (3.1623e-20 * 1e6) = 14091.91; 1e6 * log2(1 + SNR) = 13.7827 Mbit/s
    rate = shannon_rate_bps(1e6, 0.5, 8.912509381337441e-10, 3.162277660168379e-20)
    assert rate == pytest.approx(13782682.396, rel=1e-9)


@pytest.mark.parametrize("bandwidth_hz, rate_bps", [(1e6, 13782682.396119857),
                                                    (5e6, 57305818.62043844)])
def test_shannon_rate_eq6_at_two_bandwidths(bandwidth_hz, rate_bps):
    """b_n is in eq. (6) twice: in front, and in the noise power sigma0^2 b_n of the SNR."""
    gain = 10 ** (-(128.1 + 37.6 * math.log10(0.1)) / 10)      # 100 m: 90.5 dB of path loss
    noise_w_hz = 10 ** ((-174 + 9 - 30) / 10)
    # SNR = 0.5 g / (sigma0^2 b) = 14091.9 at 1 MHz, 2818.4 at 5 MHz
    by_hand = bandwidth_hz * math.log2(1 + 0.5 * gain / (noise_w_hz * bandwidth_hz))
    assert by_hand == pytest.approx(rate_bps, rel=1e-12)
    assert shannon_rate_bps(bandwidth_hz, 0.5, gain, noise_w_hz) == pytest.approx(by_hand,
                                                                                   rel=1e-12)
    p = PhysicsParams.from_scenario(from_dict({"channel": {"bandwidth_hz": bandwidth_hz}}))
    assert downlink_rate_bps(p, gain) == pytest.approx(by_hand, rel=1e-12)
    # the shared band's split: the kernel's rate on a given band, whatever b_n is
    assert downlink_rate_bps(p, gain, 5e6) == pytest.approx(57305818.62043844, rel=1e-12)


def test_latent_transfer_eq5_eq7():
    # 128 * 128 * 16 * 16 bits = 4,194,304 before compression; / tau = 4 -> 1,048,576
    assert payload_bits(128, 128, 16, 16, 1.0) == 4_194_304
    bits = payload_bits(128, 128, 16, 16, 4.0)
    assert bits == 1_048_576
    assert tx_delay_s(bits, 13782682.396119857) == pytest.approx(0.07607923986518, rel=1e-10)
    assert tx_energy_j(0.5, 0.07607923986518) == pytest.approx(0.03803961993259, rel=1e-10)


ONE_UE = {"x": 4, "y": 3, "f_ue_hz": 1.5e9, "phi": 0.3}
"""A UE at 100 m, 4 common steps, 3 ES steps, 21 UE steps at 1.5 GHz, on a paper HIQM curve."""


def _one_ue_by_hand() -> dict[str, float]:
    """Every term of eq. (1)-(14) for ONE_UE, from Table I and our channel numbers."""
    gain = 10 ** (-(128.1 + 37.6 * math.log10(0.1)) / 10)
    rate = 1e6 * math.log2(1 + 0.5 * gain / (10 ** ((-174 + 9 - 30) / 10) * 1e6))   # (6)
    t_tx = 128 * 128 * 16 * 16 / 4 / rate                                            # (5)
    terms = {
        "gain": gain, "rate_bps": rate,
        "t_common_s": 4 * 15e6 / 2e9,                    # (1) 0.03 s
        "e_common_j": 1e-27 * 4 * 15e6 * 2e9 ** 2,       # (2) 0.24 J
        "t_es_s": 3 * 15e6 / 2e9,                        # (3) 0.0225 s
        "e_es_j": 1e-27 * 3 * 15e6 * 2e9 ** 2,           # (4) 0.18 J
        "t_tx_s": t_tx,                                  # (5) 0.0761 s
        "e_tx_j": 0.5 * t_tx,                            # (7)
        "t_ue_s": 21 * 14e6 / 1.5e9,                     # (8) 0.196 s
        "e_ue_j": 1e-27 * 21 * 14e6 * 1.5e9 ** 2,        # (9) 0.6615 J
        # (12) at phi = 0.3, the paper's curve L = 0.1673, K = 0.2902, B = 13.86, D = 0.1179
        "qos": 0.1673 / (1 + math.exp(0.2902 * (4 - 13.86))) + 0.1179,
    }
    terms["delay_s"] = terms["t_common_s"] + terms["t_es_s"] + t_tx + terms["t_ue_s"]  # (13)
    terms["own_energy_j"] = terms["e_es_j"] + terms["e_tx_j"] + terms["e_ue_j"]       # (14)
    return terms


def test_cost_kernel_one_ue_by_hand():
    hand = _one_ue_by_hand()
    assert hand["t_tx_s"] == pytest.approx(0.07607923986518025, rel=1e-12)
    assert hand["qos"] == pytest.approx(0.2761496635402467, rel=1e-12)
    p = PhysicsParams.from_scenario(from_dict({"qos": {"model": "paper"}}))
    costs = ue_costs(p, np.array(ONE_UE["x"]), np.array(ONE_UE["y"]), waited_steps=ONE_UE["x"],
                     f_ue_hz=ONE_UE["f_ue_hz"], phi=np.array(ONE_UE["phi"]),
                     t_tx_s=hand["t_tx_s"])
    assert costs.z == 21                                                    # (17e)
    for name in ("t_common_s", "t_es_s", "t_tx_s", "t_ue_s", "delay_s", "e_es_j", "e_tx_j",
                 "e_ue_j", "own_energy_j", "qos"):
        assert float(getattr(costs, name)) == pytest.approx(hand[name], rel=1e-12), name


def test_closed_form_one_ue_and_its_reward_by_hand():
    hand = _one_ue_by_hand()
    scenario = from_dict({"network": {"num_ues": 1, "num_groups": 1}, "qos": {"model": "paper"},
                          "reward": {"qos_ref": 0.3, "delay_ref_s": 0.4, "energy_ref_j": 0.9}})
    state = SlotState(f_ue_hz=np.array([ONE_UE["f_ue_hz"]]), phi=np.array([ONE_UE["phi"]]),
                      group=np.array([0]), gain=np.array([hand["gain"]]), num_groups=1)
    out = evaluate(ModelParams.from_scenario(scenario), state, np.array([ONE_UE["x"]]),
                   np.array([ONE_UE["y"]]))
    for name in ("rate_bps", "t_common_s", "t_es_s", "t_tx_s", "t_ue_s", "delay_s", "e_common_j",
                 "e_es_j", "e_tx_j", "e_ue_j", "own_energy_j", "qos"):
        assert float(getattr(out, name)[0]) == pytest.approx(hand[name], rel=1e-12), name
    energy = hand["e_common_j"] + hand["own_energy_j"]                                # (16)
    assert float(out.total_energy_j) == pytest.approx(energy, rel=1e-12)
    # (17a) normalised, N = 1: 0.6 Q / 0.3 - 0.2 T / 0.4 - 0.2 E / 0.9
    reward = 0.6 * hand["qos"] / 0.3 - 0.2 * hand["delay_s"] / 0.4 - 0.2 * energy / 0.9
    assert float(out.reward) == pytest.approx(reward, rel=1e-12)


def test_reward_params_terms_by_hand():
    r = RewardParams(weights=(0.5, 0.3, 0.2), qos_ref=0.25, delay_ref_s=0.5, energy_ref_j=2.0)
    # 4 UEs with Q = 1.0, T = 3.0 s, E = 6.0 J: 0.5 * 1 / 1 - 0.3 * 3 / 2 - 0.2 * 6 / 8
    assert r.objective(1.0, 3.0, 6.0, 4) == pytest.approx(0.5 - 0.45 - 0.15, rel=1e-12)
    # one UE's own terms are N = 1: 0.5 * 0.2 / 0.25 - 0.3 * 0.6 / 0.5 - 0.2 * 1.4 / 2
    assert r.objective(0.2, 0.6, 1.4) == pytest.approx(0.4 - 0.36 - 0.14, rel=1e-12)
    q, t, e = r.per_unit(4)
    assert (q, t, e) == pytest.approx((0.5 / 1.0, 0.3 / 2.0, 0.2 / 8.0), rel=1e-12)
    assert q * 1.0 - t * 3.0 - e * 6.0 == pytest.approx(r.objective(1.0, 3.0, 6.0, 4))


def test_reward_params_refuse_unresolved_references():
    with pytest.raises(HybridnetError, match="qos_ref, energy_ref_j still \"auto\""):
        RewardParams.from_config(from_dict({"reward": {"delay_ref_s": 0.4}}).reward)


def test_reference_terms_are_the_local_decision_by_hand():
    """The all-on-UE split (0, 0) of a UE at 1.5 GHz, phi 0.5, t_tx averaged over 50-300 m."""
    scenario = from_dict({"qos": {"model": "paper"}})
    distance_km = np.linspace(50.0, 300.0, 1001) / 1000
    gain = 10 ** (-(128.1 + 37.6 * np.log10(distance_km)) / 10)
    rate = 1e6 * np.log2(1 + 0.5 * gain / (10 ** ((-174 + 9 - 30) / 10) * 1e6))
    t_tx = float(np.mean(1_048_576 / rate))
    qos, delay, energy = reference_terms(scenario)
    assert qos == pytest.approx(0.1143 / (1 + math.exp(0.2384 * (0 - 12.00))) + 0.1796,
                                rel=1e-12)
    assert delay == pytest.approx(t_tx + 28 * 14e6 / 1.5e9, rel=1e-12)
    assert energy == pytest.approx(0.5 * t_tx + 1e-27 * 28 * 14e6 * 1.5e9 ** 2, rel=1e-12)


def test_cost_kernel_broadcasts_over_the_oracles_grid():
    """(N, X+1, Y+1) candidates at once equal each candidate on its own."""
    p = PhysicsParams.from_scenario(from_dict({}))
    rng = np.random.default_rng(3)
    f_ue, phi, t_tx = rng.uniform(1.4e9, 1.6e9, 3), rng.uniform(0.2, 0.8, 3), rng.uniform(
        0.01, 0.2, 3)
    x, y = np.arange(14)[None, :, None], np.arange(15)[None, None, :]
    grid = ue_costs(p, x, y, waited_steps=x, f_ue_hz=f_ue[:, None, None],
                    phi=phi[:, None, None], t_tx_s=t_tx[:, None, None])
    assert grid.delay_s.shape == grid.own_energy_j.shape == (3, 14, 15)
    assert grid.qos.shape == (3, 14, 1)                     # Q depends on x and phi only
    for n, xi, yi in ((0, 0, 0), (1, 13, 14), (2, 5, 7)):
        one = ue_costs(p, np.array(xi), np.array(yi), waited_steps=xi, f_ue_hz=f_ue[n],
                       phi=phi[n], t_tx_s=t_tx[n])
        for name in ("delay_s", "own_energy_j", "qos"):
            on_grid = np.broadcast_to(getattr(grid, name), (3, 14, 15))[n, xi, yi]
            assert on_grid == pytest.approx(float(getattr(one, name)), rel=1e-12), name


def test_group_max_batched_and_empty_group():
    x = np.array([[3, 1, 7, 0], [2, 2, 0, 5]])
    group = np.array([[0, 0, 1, 1], [1, 1, 1, 1]])
    np.testing.assert_array_equal(group_max(x, group, 3), [[3, 7, 0], [0, 5, 0]])


def _two_ue_state() -> SlotState:
    return SlotState(f_ue_hz=np.array([1.4e9, 1.6e9]), phi=np.array([0.3, 0.6]),
                     group=np.array([0, 0]), gain=np.array([8.912509381337441e-10] * 2),
                     num_groups=1)


def test_evaluate_eq13_to_eq17_by_hand():
    scenario = from_dict({"qos": {"model": "paper"},
                          "reward": {"qos_ref": 0.3, "delay_ref_s": 0.4, "energy_ref_j": 0.9}})
    params = ModelParams.from_scenario(scenario)
    out = evaluate(params, _two_ue_state(), np.array([4, 2]), np.array([3, 0]))
    t_tx = 0.07607923986518025
    # UE 0: waits X = 4 common steps (0.03 s), y = 3 ES steps (0.0225 s), z = 21 UE steps at 1.4 GHz
    t0 = 0.03 + 0.0225 + t_tx + 21 * 14e6 / 1.4e9
    # UE 1: also waits X = 4 (eq. 13), y = 0, z = 26 steps at 1.6 GHz
    t1 = 0.03 + 0.0 + t_tx + 26 * 14e6 / 1.6e9
    np.testing.assert_allclose(out.delay_s, [t0, t1], rtol=1e-12)
    np.testing.assert_array_equal(out.z, [21, 26])
    e_common = 4 * 0.06                                                   # eq. (2), shared
    e0 = 3 * 0.06 + 0.5 * t_tx + 1e-27 * 21 * 14e6 * 1.4e9**2
    e1 = 0.5 * t_tx + 1e-27 * 26 * 14e6 * 1.6e9**2
    assert out.total_energy_j == pytest.approx(e_common + e0 + e1, rel=1e-12)
    q = params.physics.qos_model.qos(np.array([4, 2]), np.array([0.3, 0.6]))
    assert out.total_qos == pytest.approx(q.sum())
    reward = 0.6 * q.sum() / (2 * 0.3) - 0.2 * (t0 + t1) / (2 * 0.4) - 0.2 * (
        e_common + e0 + e1) / (2 * 0.9)
    assert out.reward == pytest.approx(reward, rel=1e-12)


def test_early_handoff_waits_only_for_own_common_steps():
    scenario = from_dict({"sim": {"early_handoff": True}, "qos": {"model": "paper"}})
    params = ModelParams.from_scenario(scenario)
    out = evaluate(params, _two_ue_state(), np.array([4, 2]), np.array([0, 0]))
    np.testing.assert_allclose(out.t_common_s, [0.03, 0.015])
    assert out.e_common_j.sum() == pytest.approx(0.24)


def test_evaluate_batched_equals_per_slot():
    params = ModelParams.from_scenario(from_dict({"qos": {"model": "paper"}}))
    rng = np.random.default_rng(0)
    b, n = 4, 7
    state = SlotState(f_ue_hz=rng.uniform(1.4e9, 1.6e9, (b, n)), phi=rng.uniform(0.2, 0.7, (b, n)),
                      group=rng.integers(0, 3, (b, n)), gain=rng.uniform(1e-11, 1e-9, (b, n)),
                      num_groups=3)
    x, y = rng.integers(0, 14, (b, n)), rng.integers(0, 15, (b, n))
    batched = evaluate(params, state, x, y)
    for i in range(b):
        single = evaluate(params, state.take(i), x[i], y[i])
        assert batched.reward[i] == pytest.approx(single.reward, rel=1e-12)
        np.testing.assert_allclose(batched.delay_s[i], single.delay_s, rtol=1e-12)


def test_action_mask_respects_every_range():
    st = Scenario().steps.__class__(total=28, x_max=13, y_min=2, y_max=16, z_min=5, z_max=20)
    mask = action_mask(st)
    for x in range(14):
        for y in range(17):
            z = 28 - x - y
            assert mask[x, y] == (2 <= y and 5 <= z <= 20)
    assert action_mask(st, allows_common_phase=False)[1:].sum() == 0
    assert local_split(st) == (0, 8)


def test_default_action_space_has_238_pairs_one_infeasible():
    mask = action_mask(Scenario().steps)
    assert mask.size == 238
    # x = 13, y = 16 would leave z = -1
    assert mask.sum() == 237 and not mask[13, 16]


def test_phase_two_work_grid_by_hand() -> None:
    """eq. (8) on the step grid: z = T_max - x - y steps of 14 Mcycles at f_n, 0 past T_max."""
    p = PhysicsParams.from_scenario(from_dict({}))
    grid = ue_work_grid_s(p, 13, 16, np.array([1.4e9, 2.8e9]))
    assert grid.shape == (2, 14, 17)
    assert grid[0, 3, 5] == pytest.approx(20 * 14e6 / 1.4e9)     # z = 28 - 3 - 5 = 20: 0.2 s
    assert grid[1, 3, 5] == pytest.approx(0.1)
    assert grid[0, 13, 16] == 0.0                               # x + y = 29 > 28
