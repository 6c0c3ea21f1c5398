"""The four prompt schemes the paper compares, behind one call.

Each scheme turns the UEs' personal prompts into groups, a public prompt per
group and the similarity phi_n of eq. (10) between UE n's personal prompt
and its group's public prompt; the controller then chooses steps under that
scheme:

- ``his`` (the paper's): groups by key subject, public prompt written from
  the group's common features by an agent (:mod:`hybridnet.prompts.his`);
- ``ppgfis`` (Xie et al.): knowledge-graph communities, a random member's
  prompt as the public prompt (:mod:`hybridnet.prompts.knowledge_graph`);
- ``gfis`` (Du et al., 2023): one group of all UEs, a random member's prompt
  as the public prompt;
- ``iis`` (Du et al., TMC 2024): no sharing at all. Every UE is a group of
  its own whose only prompt is its personal one, so phi_n = 1 exactly (eq. 10
  of a prompt with itself), and ``allows_common_phase`` is False: the
  controller must keep x_n = 0.

``phi_source = "synthetic"`` skips prompts and embeddings altogether for
very large N (:mod:`hybridnet.prompts.synthetic`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.prompts.assignment import PromptAssignment, check_scheme
from hybridnet.prompts.corpus import draw_prompts, resolve_corpus
from hybridnet.prompts.embeddings import embed, paired_cosine
from hybridnet.prompts.grouping import check_num_groups
from hybridnet.prompts.his import PromptAgent, check_agent, his_groups, make_agent
from hybridnet.prompts.knowledge_graph import ppgfis_groups
from hybridnet.prompts.synthetic import synthetic_assignment
from hybridnet.registry import PHI_SOURCES, PROMPT_SCHEMES

__all__ = ["PromptAssignment", "assign_prompts", "group_prompts"]

Scheme = Callable[[list[str], int | str, np.random.Generator, Callable[[], PromptAgent]],
                  PromptAssignment]
"""A scheme applied to (personal prompts, M, rng, the HIS agent, built only if asked for)."""


def _random_members(
    labels: np.ndarray, texts: Sequence[str], rng: np.random.Generator
) -> list[str]:
    """One uniformly chosen member's prompt per group: the PPGFIS and GFIS public prompt."""
    return [
        texts[int(rng.choice(np.flatnonzero(labels == g)))] for g in range(int(labels.max()) + 1)
    ]


def _shared_phase(texts: list[str], labels: np.ndarray, public: list[str]) -> PromptAssignment:
    """Groups that share a common phase, with phi_n of eq. (10) for every UE."""
    # eq. (10): phi_n = cos(emb(public prompt of n's group), emb(personal prompt of n))
    phi = paired_cosine(embed(public)[labels], embed(texts))
    return PromptAssignment(texts, labels, public, phi, True)


def _his(texts: list[str], num_groups: int | str, rng: np.random.Generator,
         agent: Callable[[], PromptAgent]) -> PromptAssignment:
    check_num_groups(num_groups, len(texts))
    return _shared_phase(texts, *his_groups(texts, num_groups, rng, agent()))


def _ppgfis(texts: list[str], num_groups: int | str, rng: np.random.Generator,
            agent: Callable[[], PromptAgent]) -> PromptAssignment:
    check_num_groups(num_groups, len(texts))
    labels = ppgfis_groups(texts, num_groups, rng)
    return _shared_phase(texts, labels, _random_members(labels, texts, rng))


def _gfis(texts: list[str], num_groups: int | str, rng: np.random.Generator,
          agent: Callable[[], PromptAgent]) -> PromptAssignment:
    labels = np.zeros(len(texts), dtype=np.int64)
    return _shared_phase(texts, labels, _random_members(labels, texts, rng))


def _iis(texts: list[str], num_groups: int | str, rng: np.random.Generator,
         agent: Callable[[], PromptAgent]) -> PromptAssignment:
    return PromptAssignment(texts, np.arange(len(texts)), None, np.ones(len(texts)), False)


_SCHEMES: Mapping[str, Scheme] = PROMPT_SCHEMES.implement(
    {"his": _his, "ppgfis": _ppgfis, "gfis": _gfis, "iis": _iis})


def group_prompts(
    scheme: str,
    texts: Sequence[str],
    num_groups: int | str,
    rng: np.random.Generator,
    *,
    agent: str = "offline",
    openai_base_url: str = "",
    openai_model: str = "",
) -> PromptAssignment:
    """Apply ``scheme`` to the given personal prompts, one per UE.

    ``num_groups`` is M for HIS and PPGFIS (or ``"auto"``: silhouette for HIS,
    the graph's own community count for PPGFIS); GFIS always forms one group
    and IIS one per UE, whatever M says, since that is what those schemes are.
    """
    check_scheme(scheme)
    check_agent(agent)
    texts = list(texts)
    if not texts:
        raise HybridnetError("no prompts to group")
    return _SCHEMES[scheme](texts, num_groups, rng,
                            lambda: make_agent(agent, openai_base_url, openai_model))


def assign_prompts(
    scheme: str,
    num_ues: int,
    num_groups: int | str,
    rng: np.random.Generator,
    *,
    phi_source: str = "embedding",
    corpus: str = "bundled",
    agent: str = "offline",
    openai_base_url: str = "",
    openai_model: str = "",
) -> PromptAssignment:
    """Draw ``num_ues`` personal prompts from ``corpus`` with ``rng`` and apply ``scheme``.

    ``corpus`` is ``"bundled"`` (240 prompts over 12 subjects), ``"semct"``
    (the authors' 22) or a path to a CSV/TXT file; prompts are drawn without
    replacement while the corpus lasts. The result depends only on the
    arguments and the state of ``rng``.
    """
    check_scheme(scheme)
    if phi_source not in PHI_SOURCES:
        raise HybridnetError(
            f"unknown phi_source {phi_source!r}; choose one of {', '.join(PHI_SOURCES)}"
        )
    if isinstance(num_ues, bool) or not isinstance(num_ues, int | np.integer) or num_ues < 1:
        raise HybridnetError(f"num_ues must be a positive integer, not {num_ues!r}")
    resolve_corpus(corpus)
    if phi_source == "synthetic":
        return synthetic_assignment(scheme, int(num_ues), num_groups, rng)
    texts = draw_prompts(corpus, int(num_ues), rng)
    return group_prompts(
        scheme, texts, num_groups, rng,
        agent=agent, openai_base_url=openai_base_url, openai_model=openai_model,
    )
