"""The random world a run unfolds in: UE positions, CPU speeds, fading, prompts.

Each kind of randomness has its own stream spawned from one root seed, so
changing, say, the fading model does not reshuffle the UEs' CPU speeds, and the
same (scenario, seed, episode) always yields the same slots whichever engine or
policy consumes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hybridnet.model.channel import channel_gain
from hybridnet.model.slot import SlotState
from hybridnet.prompts import PromptAssignment, assign_prompts
from hybridnet.scenario import Scenario

_STREAMS = ("positions", "freqs", "fading", "prompts", "arrivals", "policy")


def seeded_streams(seed: int, episode: int = 0) -> dict[str, np.random.Generator]:
    """One independent generator per kind of randomness, all from (seed, episode)."""
    children = np.random.SeedSequence([seed, episode]).spawn(len(_STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(_STREAMS, children,
                                                                       strict=True)}


@dataclass
class Conditions:
    """Draws ``scenario.sim.slots`` slot states for one episode of one seed."""

    scenario: Scenario
    seed: int
    episode: int = 0

    def __post_init__(self) -> None:
        self.rngs = seeded_streams(self.seed, self.episode)
        self.prompts: PromptAssignment | None = None
        self._prompt_log: list[pd.DataFrame] = []
        self._distance_m: np.ndarray | None = None
        self._f_ue_hz: np.ndarray | None = None

    @property
    def num_ues(self) -> int:
        return self.scenario.network.num_ues

    def _draw_prompts(self) -> PromptAssignment:
        p = self.scenario.prompts
        return assign_prompts(
            p.scheme, self.num_ues, self.scenario.network.num_groups, self.rngs["prompts"],
            phi_source=p.phi_source, corpus=p.corpus, agent=p.agent,
            openai_base_url=p.openai_base_url, openai_model=p.openai_model,
        )

    def _draw_distances(self) -> np.ndarray:
        ch = self.scenario.channel
        return self.rngs["positions"].uniform(ch.distance_min_m, ch.distance_max_m, self.num_ues)

    def _draw_freqs(self) -> np.ndarray:
        ue = self.scenario.ue
        return self.rngs["freqs"].uniform(ue.freq_min_hz, ue.freq_max_hz, self.num_ues)

    def slot(self, index: int) -> SlotState:
        """The state of slot ``index``; slots must be drawn in order 0, 1, 2, ..."""
        s = self.scenario
        first = index == 0
        if first or s.prompts.redraw == "slot":
            self.prompts = self._draw_prompts()
            self._log_prompts(index, self.prompts)
        if first or s.channel.position_redraw == "slot":
            self._distance_m = self._draw_distances()
        if first or s.ue.freq_redraw == "slot":
            self._f_ue_hz = self._draw_freqs()
        if s.channel.fading == "rayleigh":
            fading = self.rngs["fading"].exponential(1.0, self.num_ues)
        else:
            fading = np.ones(self.num_ues)
        assert self.prompts is not None and self._distance_m is not None
        gain = channel_gain(self._distance_m, s.channel.pathloss_at_1km_db,
                            s.channel.pathloss_slope_db, fading)
        return SlotState(
            f_ue_hz=self._f_ue_hz, phi=self.prompts.phi, group=self.prompts.group, gain=gain,
            num_groups=self.prompts.num_groups,
            allows_common_phase=self.prompts.allows_common_phase,
        )

    def _log_prompts(self, slot: int, assignment: PromptAssignment) -> None:
        """Keep the texts behind each draw: phi is only a number without them."""
        if assignment.personal is None:
            return
        public = assignment.public
        self._prompt_log.append(pd.DataFrame({
            "from_slot": slot, "ue": np.arange(self.num_ues), "group": assignment.group,
            "phi": assignment.phi, "personal_prompt": assignment.personal,
            "public_prompt": [public[g] if public else "" for g in assignment.group],
        }))

    def prompt_frame(self) -> pd.DataFrame | None:
        """Every UE's personal and public prompt per draw, or None for synthetic phi."""
        return pd.concat(self._prompt_log, ignore_index=True) if self._prompt_log else None

    def slots(self) -> Iterator[SlotState]:
        """Every slot of the episode, in order."""
        for index in range(self.scenario.sim.slots):
            yield self.slot(index)

    @property
    def distance_m(self) -> np.ndarray:
        """Current BS-UE distances (for traces)."""
        assert self._distance_m is not None
        return self._distance_m
