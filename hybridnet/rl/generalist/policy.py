"""The generalist as a :class:`~hybridnet.policies.Policy`: the shipped controller that
``--policy hid`` runs without training, on any cell of its action space.

A cell outside the distribution it was trained on still runs; :func:`load_generalist_policy`
returns one line per key outside it for the caller to show.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from hybridnet.errors import HybridnetError
from hybridnet.model.params import ModelParams
from hybridnet.model.reference import queues_form
from hybridnet.model.slot import SlotState
from hybridnet.rl.controller import DECIDE_THREADS
from hybridnet.rl.generalist.checkpoint import GeneralistCheckpoint, load_generalist
from hybridnet.rl.generalist.distribution import outside
from hybridnet.rl.generalist.features import StepCosts, observe
from hybridnet.rl.generalist.network import GeneralistNet
from hybridnet.rl.generalist.priced import PricedGeneralistPolicy
from hybridnet.scenario import Scenario
from hybridnet.threads import torch_threads

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "hid_generalist.pt"
"""The generalist trained by ``python -m hybridnet.rl.generalist.train`` with its defaults."""


class GeneralistPolicy:
    """Asks the generalist's group actor and shared UE actor every slot."""

    name = "hid"

    def __init__(self, net: GeneralistNet, scenario: Scenario, sample: bool = False,
                 generator: torch.Generator | None = None) -> None:
        self.net = net.eval()
        self.costs = StepCosts.of(ModelParams.from_scenario(scenario), scenario.steps.x_max)
        self.sample = sample
        self.generator = generator

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode(), torch_threads(DECIDE_THREADS):
            obs = observe(self.costs, state)
            choice = (self.net.choose(obs, self.net.heads(obs), self.generator) if self.sample
                      else self.net.decide(obs))
        shape = np.shape(state.phi)
        return choice.x.numpy().reshape(shape), choice.y.numpy().reshape(shape)


@functools.cache
def shipped_checkpoint() -> GeneralistCheckpoint:
    """The shipped generalist, read once per process."""
    return load_generalist(SHIPPED)


def load_generalist_policy(scenario: Scenario, rng: np.random.Generator,
                           path: str | Path | None = None, sample: bool = False
                           ) -> tuple[GeneralistPolicy | PricedGeneralistPolicy, list[str]]:
    """The generalist (``path``, default the shipped one) for ``scenario``, and one line
    per key of ``scenario`` outside the distribution it was trained on. Where queues
    form, it decides with the capacities priced (priced.py), greedily."""
    checkpoint = shipped_checkpoint() if path is None else load_generalist(path)
    lines = outside(scenario, checkpoint.cells)
    if queues_form(scenario):
        if sample:
            raise HybridnetError(
                f"{scenario.source}: queues form here (edge.scheduler, channel.downlink), "
                "where the generalist prices the capacities from its own decisions and "
                "acts greedily; --sample draws only from a specialist "
                "(train.controller = \"specialist\")")
        return PricedGeneralistPolicy(checkpoint.network(), scenario), lines
    generator = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
    policy = GeneralistPolicy(checkpoint.network(), scenario, sample, generator)
    return policy, lines
