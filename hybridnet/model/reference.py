"""The reward's normalising references, resolved from "auto" to numbers.

Q, T and E differ by orders of magnitude, so (17a) is only meaningful once each
term is divided by a reference. Ours is the all-on-UE (``local``) decision of
one typical UE: the mid-range f^UE, the transfer delay averaged over the
distance distribution, the mid-range phi. A policy that does everything on the
UE then scores about w1 - w2 - w3, and a reward of 0.1 more is a 10 % gain on
one term. The numbers are written into the resolved config.toml, so reruns and
other engines use exactly the same ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.model.actions import local_split
from hybridnet.model.channel import channel_gain
from hybridnet.model.costs import downlink_rate_bps, tx_delay_s, ue_costs
from hybridnet.model.physics import PhysicsParams
from hybridnet.scenario import AUTO, Scenario
from hybridnet.scenario.sections import DEFAULT_MODE_KEYS, DES_ONLY_KEYS, TRAIN_AUTO

REFERENCE_PHI = 0.5
"""phi of the typical UE (the middle of the measured 0.2-0.8 range)."""


def reference_terms(scenario: Scenario) -> tuple[float, float, float]:
    """(QoS, delay s, energy J) of the local decision for one typical UE."""
    p = PhysicsParams.from_scenario(scenario)
    ch, ue = scenario.channel, scenario.ue
    x, y = local_split(scenario.steps)
    distances = np.linspace(ch.distance_min_m, ch.distance_max_m, 1001)
    gain = channel_gain(distances, ch.pathloss_at_1km_db, ch.pathloss_slope_db)
    t_tx = float(np.mean(tx_delay_s(p, downlink_rate_bps(p, gain))))  # eq. (5)-(6), mean over d
    costs = ue_costs(p, np.array(x), np.array(y), waited_steps=0,
                     f_ue_hz=0.5 * (ue.freq_min_hz + ue.freq_max_hz),
                     phi=np.array(REFERENCE_PHI), t_tx_s=t_tx)
    return float(costs.qos), float(costs.delay_s), float(costs.own_energy_j)


def queues_form(scenario: Scenario) -> bool:
    """Whether requests can wait for each other: an fcfs or ps ES, or a shared downlink.

    A dedicated cell whose slots are shorter than its requests also carries work
    from slot to slot on the UEs' CPUs; it is left to ``train.engine = "des"``.
    """
    return scenario.edge.scheduler != "dedicated" or scenario.channel.downlink == "shared"


def training_engine(scenario: Scenario) -> str:
    """``train.engine``, "auto" resolved."""
    engine = scenario.train.engine
    if engine != AUTO:
        return engine
    return "des" if queues_form(scenario) else "closed"


def resolve_references(scenario: Scenario) -> Scenario:
    """A copy whose "auto" references are replaced by the numbers they stand for.

    ``train.episode_slots`` too: written as a number, a run of another length
    (``--slots``) keeps the episodes, and so the controller, it was trained with;
    and ``train.engine``, ``gamma``, ``bound_exploration`` and ``shared_samples``,
    which follow from whether
    queues form (:func:`queues_form`).
    The copy remembers which keys it derived (:attr:`Scenario.derived`), so that
    changing it with ``with_values`` derives them again.
    """
    derived = set(scenario.derived)
    tr = scenario.train
    engine = training_engine(scenario)
    automatic = {"engine": engine, **{name: values[engine] for name, values in TRAIN_AUTO.items()}}
    chosen = {name: value for name, value in automatic.items() if getattr(tr, name) == AUTO}
    if chosen:
        derived.update(f"train.{name}" for name in chosen)
        scenario = scenario.replace(train=dataclasses.replace(tr, **chosen))
    if scenario.train.episode_slots == AUTO:
        derived.add("train.episode_slots")
        scenario = scenario.replace(train=dataclasses.replace(
            scenario.train, episode_slots=scenario.sim.slots))
    r = scenario.reward
    names = ("qos_ref", "delay_ref_s", "energy_ref_j")
    auto = [name for name in names if getattr(r, name) == AUTO]
    if auto:
        terms = dict(zip(names, reference_terms(scenario), strict=True))
        r = dataclasses.replace(r, **{name: terms[name] for name in auto})
        derived.update(f"reward.{name}" for name in auto)
    return dataclasses.replace(scenario.replace(reward=r), derived=frozenset(derived))


def inert_train_keys(scenario: Scenario) -> dict[str, str]:
    """The [train] keys that do nothing in ``scenario``'s mode and engine, and why ("auto"
    resolved first)."""
    tr = resolve_references(scenario).train
    inert: dict[str, str] = {}
    if tr.gamma == 0:
        inert["gae_lambda"] = "with train.gamma = 0 every advantage is the slot's own"
    if tr.engine != "des":
        inert.update(dict.fromkeys(DES_ONLY_KEYS, "it acts only when training runs on the DES "
                                                  '(train.engine = "des")'))
    if tr.mode != "default":
        inert.update(dict.fromkeys(DEFAULT_MODE_KEYS,
                                   f'it acts only in train.mode = "default" (not "{tr.mode}")'))
    return inert


def check_train_keys(scenario: Scenario, given: Collection[str] = ()) -> None:
    """Refuse a [train] key that was set where it does nothing, in one line.

    A key counts as set when it is in ``given`` (``--set``'s keys) or when its value
    differs from the one it resolves to by default; a resolved config.toml writes every
    key, so a key at that value says nothing about what its author meant.
    """
    tr = scenario.train
    defaults = resolve_references(scenario.replace(
        train=dataclasses.replace(type(tr)(), mode=tr.mode, engine=tr.engine))).train
    resolved = resolve_references(scenario).train
    for name, why in inert_train_keys(scenario).items():
        dotted = f"train.{name}"
        if dotted in given or getattr(resolved, name) != getattr(defaults, name):
            raise HybridnetError(
                f"{scenario.source}: {dotted} = {getattr(resolved, name)!r} does nothing here: "
                f"{why}; drop it")
