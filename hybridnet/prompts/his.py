"""HIS, the paper's scheme: group prompts by key subject, write a public prompt per group.

An agent (the paper's LLM, or the offline stand-in) does the language work:
it names each prompt's key subject and writes each group's public prompt.
The grouping between those two steps is ours: spherical k-means on each
prompt's embedding plus its subject's embedding, so that prompts about the
same subject fall together even when their settings and styles differ, and
kittens join cats because their subject words embed close together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.prompts.embeddings import embed
from hybridnet.prompts.grouping import group_embeddings
from hybridnet.prompts.offline_agent import OfflineAgent
from hybridnet.prompts.openai_agent import OpenAIAgent
from hybridnet.registry import HIS_AGENTS


class PromptAgent(Protocol):
    """The two jobs the paper gives its LLM agent."""

    def subjects(self, texts: Sequence[str]) -> list[str]:
        """The key subject of each prompt, a word or two."""
        ...

    def public_prompt(self, members: Sequence[str], subjects: Sequence[str]) -> str:
        """One prompt for the group, written from its members' common features."""
        ...


_AGENTS: Mapping[str, Callable[[str, str], PromptAgent]] = HIS_AGENTS.implement({
    "offline": lambda base_url, model: OfflineAgent(),
    "openai": OpenAIAgent,
})
"""Each agent of the registry, built from the endpoint's base URL and model name."""


def check_agent(agent: str) -> None:
    """Refuse an unknown agent with the list of known ones."""
    if agent not in _AGENTS:
        raise HybridnetError(
            f"unknown prompt agent {agent!r}; choose one of {', '.join(HIS_AGENTS)}")


def make_agent(agent: str, base_url: str = "", model: str = "") -> PromptAgent:
    """The agent named in the scenario's ``[prompts] agent``."""
    check_agent(agent)
    return _AGENTS[agent](base_url, model)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def his_groups(
    texts: Sequence[str], num_groups: int | str, rng: np.random.Generator, agent: PromptAgent
) -> tuple[np.ndarray, list[str]]:
    """Group labels per prompt and the public prompt of each group.

    The agent is asked about each distinct text once, which matters when the
    agent is a remote LLM and UEs drawn with replacement repeat prompts.
    """
    distinct = list(dict.fromkeys(texts))
    subject_of = dict(zip(distinct, agent.subjects(distinct), strict=True))
    subjects = [subject_of[t] for t in texts]
    features = _unit(_unit(embed(texts)) + _unit(embed(subjects)))
    labels = group_embeddings(features, num_groups, rng)
    publics = []
    for g in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == g)
        publics.append(
            agent.public_prompt([texts[i] for i in members], [subjects[i] for i in members])
        )
    return labels, publics
