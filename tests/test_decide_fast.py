"""The ES controller's per-slot path (``HidController.decide``) against training's.

``decide`` runs the actors under inference mode, on one torch thread, with the
default mode's masks looked up per bound instead of rebuilt every slot. It must
choose exactly what training's path would: the greedy choice is the largest
log-probability that the PPO update computes (with autograd, on the caller's
threads), and a seeded draw is :meth:`HidController.act`'s.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from hybridnet.model.reference import resolve_references
from hybridnet.model.slot import Queues, SlotState
from hybridnet.rl.controller import HidController, LevelStep
from hybridnet.rl.distributions import MaskedCategorical
from hybridnet.rl.networks import ActorCritic
from hybridnet.scenario import Scenario, from_dict
from hybridnet.sim.conditions import Conditions
from hybridnet.threads import torch_threads

CELLS = {
    "paper": {"network": {"num_ues": 12, "num_groups": 3},
              "train": {"mode": "paper", "hidden": [32, 32]}},
    "default": {"network": {"num_ues": 30, "num_groups": 4},
                "ue": {"freq_min_hz": 0.8e9, "freq_max_hz": 2.0e9},
                "train": {"hidden": [32, 32]}},
    "des": {"network": {"num_ues": 30, "num_groups": 4},
            "ue": {"freq_min_hz": 0.8e9, "freq_max_hz": 2.0e9},
            "edge": {"scheduler": "fcfs", "compute_units": 1},
            "channel": {"downlink": "shared", "shared_bandwidth_hz": 100e6},
            "sim": {"slot_s": 0.3, "arrivals": "poisson", "early_handoff": True},
            "train": {"hidden": [32, 32], "behind_slots": 2.0}},
}
"""A paper-mode cell, a default-mode one on the closed form, one whose actors see queues."""


def scenario_of(cell: str) -> Scenario:
    return resolve_references(from_dict(CELLS[cell], f"<{cell}>"))


def random_slots(scenario: Scenario, seed: int, count: int) -> list[SlotState]:
    """Slots of the scenario's conditions with random queues (the closed form's read 0)."""
    rng = np.random.default_rng(seed)
    n = scenario.network.num_ues
    slots = []
    for state in list(Conditions(scenario, seed).slots())[:count]:
        queues = Queues(ue_backlog_s=rng.exponential(0.4, n), es_backlog_s=rng.exponential(0.5),
                        downlink_in_flight=rng.integers(0, n, size=()).astype(float),
                        downlink_bits=rng.exponential(5e6), last_delay_s=rng.exponential(0.5, n),
                        last_wait_s=rng.exponential(0.1, n))
        slots.append(dataclasses.replace(state, queues=queues))
    return slots


def controller_of(cell: str, seed: int) -> HidController:
    """A controller with random weights: what it decides does not depend on training."""
    return HidController(scenario_of(cell), torch.Generator().manual_seed(seed)).eval()


def training_log_probs(actors: ActorCritic, step: LevelStep) -> torch.Tensor:
    """Log-probabilities of every choice as the PPO update computes them: with autograd."""
    with torch.enable_grad():
        logits = actors.actor(step.obs)
        assert logits.requires_grad
        return MaskedCategorical(logits, step.masks).log_probs.detach()


def actions_of(controller: HidController, x: np.ndarray, y: np.ndarray,
               bound: np.ndarray | None) -> torch.Tensor:
    """The UE actors' action indices (1 or N, ...) behind the splits x, y (N,)."""
    if bound is None:
        return torch.from_numpy(x * controller.num_y + y)[:, None]
    return torch.from_numpy((bound - x) * controller.num_y + y)[None]


@pytest.mark.parametrize("cell", list(CELLS))
def test_greedy_decisions_are_the_most_likely_choices_of_the_training_path(cell: str) -> None:
    for seed in range(3):
        controller = controller_of(cell, seed)
        for state in random_slots(scenario_of(cell), seed, 3):
            with torch_threads(2):
                x, y = controller.decide(state, greedy=True)
                assert torch.get_num_threads() == 2
            reference = controller.act(state, greedy=True)
            np.testing.assert_array_equal(x, reference.x[0])
            np.testing.assert_array_equal(y, reference.y[0])
            log_probs = training_log_probs(controller.ue, reference.ue)
            bound = None if reference.bound is None else reference.bound[0]
            chosen = actions_of(controller, x, y, bound)
            assert torch.equal(chosen, log_probs.argmax(-1))
            assert reference.ue.masks.gather(-1, chosen[..., None]).all()
            if reference.group is not None:
                group_log_probs = training_log_probs(controller.group, reference.group)
                assert torch.equal(reference.group.actions, group_log_probs.argmax(-1))


@pytest.mark.parametrize("cell", list(CELLS))
def test_seeded_draws_are_the_training_paths_draws(cell: str) -> None:
    controller = controller_of(cell, 7)
    for seed, state in enumerate(random_slots(scenario_of(cell), 7, 3)):
        x, y = controller.decide(state, greedy=False,
                                 generator=torch.Generator().manual_seed(seed))
        reference = controller.act(state, greedy=False,
                                   generator=torch.Generator().manual_seed(seed))
        np.testing.assert_array_equal(x, reference.x[0])
        np.testing.assert_array_equal(y, reference.y[0])
        log_probs = training_log_probs(controller.ue, reference.ue)
        bound = None if reference.bound is None else reference.bound[0]
        chosen = actions_of(controller, x, y, bound)
        assert torch.isfinite(log_probs.gather(-1, chosen[..., None])).all()
        assert reference.ue.masks.gather(-1, chosen[..., None]).all()


@pytest.mark.parametrize("allow", [True, False])
def test_the_offset_masks_looked_up_per_bound_are_the_masks_built_per_ue(allow: bool) -> None:
    controller = controller_of("default", 0)
    bounds = torch.from_numpy(np.random.default_rng(1).integers(0, controller.num_x, (1, 50)))
    x_of_d = bounds.unsqueeze(-1) - torch.arange(controller.num_x)
    built = controller._offset_mask(controller.masks[allow], x_of_d)
    assert torch.equal(controller.offset_masks[allow][bounds], built)
