"""Every named choice a user can make, with a line on each name: the one list of them.

A scenario key such as ``[edge] scheduler`` accepts a fixed set of names whose
implementations live far above the scenario (``sim/``, ``model/``, ``prompts/``,
``rl/``). The scenario cannot import those modules, because they import it, so
the names live here, below both, and everything else derives from this module:

- the scenario schema validates a key against its :class:`Choices` and documents
  each name with its line here (so ``docs/scenarios.md`` lists them);
- the CLI offers the same names as its ``click.Choice`` options;
- each implementing module ties its table of implementations to the names with
  :meth:`Choices.implement`, which fails at import when a name is added on one
  side only, instead of a scenario that validates and then fails mid-run.

This module imports nothing from hybridnet but its errors, so any layer may import it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TypeVar, overload

from hybridnet.errors import HybridnetError

T = TypeVar("T")


def _parse_lines(text: str) -> dict[str, str]:
    """``name: doc`` per line (the name may itself hold a colon, as in ``fixed:X,Y``)."""
    pairs = [line.strip().partition(": ") for line in text.strip().splitlines()]
    return {name: doc for name, _, doc in pairs}


class Choices(Sequence[str]):
    """The names one choice accepts, in the order they are offered, each with a one-line doc.

    It is a sequence of the names, so ``name in CHOICES``, ``", ".join(CHOICES)``
    and ``click.Choice(CHOICES)`` work as they would on a tuple.
    """

    def __init__(self, key: str, docs: Mapping[str, str] | str) -> None:
        if isinstance(docs, str):
            docs = _parse_lines(docs)
        if not docs:
            raise ValueError(f"{key}: a choice needs at least one name")
        self.key = key
        """What is being chosen, e.g. "edge.scheduler": named in the errors of :meth:`implement`."""
        self.docs: Mapping[str, str] = MappingProxyType(dict(docs))
        """Each name's one-line doc."""
        self.names: tuple[str, ...] = tuple(docs)
        """The names, first the default or the paper's where there is one."""

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        return self.names[index]

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.docs

    def __repr__(self) -> str:
        return f"Choices({self.key!r}, {list(self.names)})"

    def describe(self) -> str:
        """``name (doc), name (doc)``: how the generated references explain the choice."""
        return ", ".join(f"{name} ({doc})" for name, doc in self.docs.items())

    def implement(self, table: Mapping[str, T]) -> Mapping[str, T]:
        """``table`` read-only, in the registered order, once its keys are exactly the names.

        Called where the implementations are defined, at import, so a name that
        has no implementation (or an implementation that no scenario can name)
        stops the program at once rather than the run that first asks for it.
        """
        missing = [name for name in self.names if name not in table]
        unknown = [name for name in table if name not in self.docs]
        if missing or unknown:
            raise ValueError(
                f"{self.key}: the implementations do not match the registered names "
                f"{', '.join(self.names)} (missing: {', '.join(missing) or 'none'}; "
                f"not registered: {', '.join(unknown) or 'none'})")
        return MappingProxyType({name: table[name] for name in self.names})

    def pick(self, table: Mapping[str, T], name: str) -> T:
        """``table[name]``, or one line naming the key and the allowed names.

        Scenarios are validated when read; this guards a config built by hand.
        """
        if name not in table:
            section, _, field = self.key.partition(".")
            raise HybridnetError(f"unknown [{section}] {field} '{name}'; allowed: "
                                 f"{', '.join(self.names)}")
        return table[name]


EDGE_SCHEDULERS = Choices("edge.scheduler", """
    dedicated: every task its own processor at freq_hz, no queueing: the paper
    fcfs: first come, first served over compute_units
    ps: processor sharing of compute_units
""")

DOWNLINKS = Choices("channel.downlink", """
    dedicated: bandwidth_hz per UE: the paper
    shared: shared_bandwidth_hz split among concurrent transmissions
""")

FADINGS = Choices("channel.fading", """
    none: path loss only
    rayleigh: a unit-mean exponential power gain drawn per slot
""")

REDRAWS = Choices("redraw", """
    episode: once per episode: a run is one episode
    slot: at every slot
""")
"""When a random part of the world is drawn again (UE distances, f^UE, prompts)."""

ARRIVALS = Choices("sim.arrivals", """
    synchronous: every UE requests at the slot start: the paper
    poisson: each slot's requests are the points of a Poisson process over the slot, uniform offsets
""")

QOS_MODELS = Choices("qos.model", """
    fitted: continuous Q(x, phi) fitted on the authors' measured CLIP scores
    paper: the five curves of Fig. 3
""")

PROMPT_SCHEMES = Choices("prompts.scheme", """
    his: the paper's: groups by key subject, a public prompt written per group by an agent
    ppgfis: knowledge-graph groups, a random member's prompt as the public one; Xie et al.
    gfis: one group of all UEs, a random member's prompt as the public one; Du et al. 2023
    iis: no sharing, every UE a group of its own and no common phase; Du et al. 2024
""")

PHI_SOURCES = Choices("prompts.phi_source", """
    embedding: real prompts and all-MiniLM-L6-v2
    synthetic: phi drawn from the scheme's fitted distribution
""")

HIS_AGENTS = Choices("prompts.agent", """
    offline: embeddings, clustering and key phrases, no network
    openai: an OpenAI-compatible chat endpoint at openai_base_url
""")

ENGINES = Choices("sim.engine", """
    des: SimPy network with queues
    closed: eq. 1-17 directly, no queues: fast
""")

POLICIES = Choices("sim.policy", """
    hid: the trained HID controller; without a checkpoint, one trained once and cached
    oracle: the exact optimum of eq. 17 in each slot, by enumeration
    fluid: the oracle held to the capacities: each UE's and the ES's work within a slot
    dpp: Lyapunov drift-plus-penalty: V * reward less backlog-weighted work, exactly
    random: a feasible (x, y) per UE drawn uniformly
    local: no common phase and the fewest ES steps: everything after the request on the UE
    fixed:X,Y: x = X and y = Y for every UE
    PATH/checkpoint.pt: a HID checkpoint written by `hybridnet train`
    MODULE:CLASS: your own policy, a class with a decide(state) method in an importable module
    FILE.py:CLASS: your own policy, a class with a decide(state) method in a Python file
""")
"""The policies ``--policy`` and ``[sim] policy`` name; ``fixed:X,Y``, ``PATH``, ``MODULE:CLASS``
and ``FILE.py:CLASS`` are patterns (:mod:`hybridnet.policies.plugin` loads the last two)."""

TRAIN_MODES = Choices("train.mode", """
    default: a group actor for X_m and one UE actor shared by all UEs, on own rewards, oracle-taught
    paper: the paper's IPPO with the team reward, for reproduction
""")

CONTROLLERS = Choices("train.controller", """
    auto: the generalist where it applies (default mode, its steps; queues priced), else specialist
    generalist: the shipped generalist, trained once over a distribution of cells
    specialist: a controller trained for this scenario (cached; hybridnet train)
""")

DEVICES = Choices("train.device", """
    cpu: the CPU
    auto: a GPU where torch sees one, else the CPU
""")
