"""The cells the generalist controller is trained on, drawn at random, and the check that
tells a user when a scenario lies outside them.

The distribution is declared once here (:data:`DISTRIBUTION`) and written into the
checkpoint, so a controller carries what it was trained on, and the out-of-distribution
check reads the checkpoint's copy rather than this module's.

Every key the closed-form optimum depends on is varied: the reward weights over the
whole simplex and the reference kind (the normalised default, or eq. 17a as printed), N,
the group count, the prompt scheme (and with it the groups and phi), both HIQMs, the ES
and UE frequencies, the step costs and kappas, early hand-off, fading and distances. The
step ranges ([steps]) are fixed: they shape the action space itself. No cell queues:
where queues form, the same networks decide with the ES's and the UEs' capacities
priced (priced.py), so nothing about queues is learnt and none is checked here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from hybridnet.model.reference import resolve_references
from hybridnet.scenario import AUTO, Scenario, StepsConfig, to_dict


@dataclass(frozen=True)
class CellDistribution:
    """Ranges of the scenario keys the generalist is trained over.

    ``log_ranges`` are drawn log-uniformly, ``choices`` uniformly; the weights
    uniformly over the simplex (Dirichlet(1, 1, 1)); a frequency range
    [lo, hi] as a log-uniform centre and a relative spread up to ``max_freq_spread``.
    """

    log_ranges: dict[str, tuple[float, float]] = field(default_factory=lambda: {
        "network.num_ues": (10, 2000),
        "network.num_groups": (1, 64),
        "edge.freq_hz": (0.5e9, 8e9),
        "edge.cycles_per_step": (5e6, 50e6),
        "edge.kappa": (1e-28, 1e-26),
        "ue.freq_hz": (0.3e9, 3e9),
        "ue.cycles_per_step": (5e6, 50e6),
        "ue.kappa": (1e-28, 1e-26),
        "channel.distance_m": (10.0, 1000.0),
    })
    choices: dict[str, tuple[Any, ...]] = field(default_factory=lambda: {
        "qos.model": ("fitted", "paper"),
        "prompts.scheme": ("his", "ppgfis", "gfis", "iis"),
        "sim.early_handoff": (False, True),
        "channel.fading": ("none", "rayleigh"),
        "reward.references": ("auto", "auto", "auto", "raw"),
    })
    max_freq_spread: float = 0.8
    """Largest (f_max - f_min) / f_centre of the UEs' CPU range."""
    steps: StepsConfig = field(default_factory=StepsConfig)
    """The step ranges (the action space), fixed."""

    def to_record(self) -> dict[str, Any]:
        """Plain containers, for a checkpoint."""
        record = asdict(self)
        record["steps"] = to_dict(Scenario(steps=self.steps))["steps"]
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CellDistribution:
        def tuples(name: str) -> dict[str, tuple[Any, ...]]:
            return {k: tuple(v) for k, v in record[name].items()}

        return cls(log_ranges=tuples("log_ranges"), choices=tuples("choices"),
                   max_freq_spread=float(record["max_freq_spread"]),
                   steps=StepsConfig(**record["steps"]))


DISTRIBUTION = CellDistribution()
"""The distribution the shipped generalist is trained over."""


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def sample_scenario(rng: np.random.Generator, dist: CellDistribution = DISTRIBUTION
                    ) -> Scenario:
    """One random closed-form cell of ``dist``, references resolved."""
    r = dist.log_ranges
    n = round(_log_uniform(rng, *r["network.num_ues"]))
    groups = min(n, round(_log_uniform(rng, *r["network.num_groups"])))
    centre = _log_uniform(rng, *r["ue.freq_hz"])
    spread = rng.uniform(0.0, dist.max_freq_spread) * centre
    f_lo = max(r["ue.freq_hz"][0], centre - spread / 2)
    f_hi = min(r["ue.freq_hz"][1], centre + spread / 2)
    d_lo, d_hi = sorted(_log_uniform(rng, *r["channel.distance_m"]) for _ in range(2))
    pick = {key: values[rng.integers(len(values))] for key, values in dist.choices.items()}
    values: dict[str, Any] = {
        "network.num_ues": n, "network.num_groups": groups,
        "edge.freq_hz": _log_uniform(rng, *r["edge.freq_hz"]),
        "edge.cycles_per_step": _log_uniform(rng, *r["edge.cycles_per_step"]),
        "edge.kappa": _log_uniform(rng, *r["edge.kappa"]),
        "ue.freq_min_hz": f_lo, "ue.freq_max_hz": max(f_hi, f_lo),
        "ue.cycles_per_step": _log_uniform(rng, *r["ue.cycles_per_step"]),
        "ue.kappa": _log_uniform(rng, *r["ue.kappa"]),
        "channel.distance_min_m": d_lo, "channel.distance_max_m": max(d_hi, d_lo + 1.0),
        "qos.model": pick["qos.model"], "prompts.scheme": pick["prompts.scheme"],
        "sim.early_handoff": bool(pick["sim.early_handoff"]),
        "channel.fading": pick["channel.fading"],
        "reward.weights": [float(w) for w in rng.dirichlet(np.ones(3))],
    }
    raw = pick["reward.references"] == "raw"
    for name in ("qos_ref", "delay_ref_s", "energy_ref_j"):
        values[f"reward.{name}"] = 1.0 if raw else AUTO
    steps = to_dict(Scenario(steps=dist.steps))["steps"]
    values.update({f"steps.{k}": v for k, v in steps.items()})
    return resolve_references(Scenario().with_values(values))


def _inside(value: float, lo: float, hi: float) -> bool:
    return lo * (1 - 1e-9) <= value <= hi * (1 + 1e-9)


def outside(scenario: Scenario, dist: CellDistribution = DISTRIBUTION) -> list[str]:
    """One line per key of ``scenario`` outside ``dist``, naming the key and the range
    trained on (empty: inside). The steps are not checked here: a controller cannot act
    on another action space at all (:func:`fits_action_space`)."""
    r = dist.log_ranges
    lines = []
    checks = {
        "network.num_ues": scenario.network.num_ues,
        "edge.freq_hz": scenario.edge.freq_hz,
        "edge.cycles_per_step": scenario.edge.cycles_per_step,
        "edge.kappa": scenario.edge.kappa,
        "ue.freq_min_hz": scenario.ue.freq_min_hz, "ue.freq_max_hz": scenario.ue.freq_max_hz,
        "ue.cycles_per_step": scenario.ue.cycles_per_step,
        "ue.kappa": scenario.ue.kappa,
    }
    if isinstance(scenario.network.num_groups, int):
        checks["network.num_groups"] = scenario.network.num_groups
    for key, value in checks.items():
        lo, hi = r.get(key, r.get(key.replace("_min", "").replace("_max", ""), (None, None)))
        if lo is not None and not _inside(float(value), lo, hi):
            lines.append(f"{key} = {value:g} is outside the range the generalist was "
                         f"trained on, {lo:g} to {hi:g}")
    for key, allowed in dist.choices.items():
        section, name = key.split(".")
        if section == "reward":
            continue
        value = getattr(getattr(scenario, section), name)
        if value not in allowed:
            lines.append(f"{key} = {value!r} is outside the generalist's training "
                         f"distribution ({', '.join(map(repr, sorted(set(allowed))))})")
    return lines


def fits_action_space(scenario: Scenario, dist: CellDistribution = DISTRIBUTION) -> bool:
    """Whether ``scenario``'s [steps] are the generalist's action space."""
    return scenario.steps == dist.steps
