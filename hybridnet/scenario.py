"""Scenario files: TOML in, validated frozen dataclasses out.

A scenario is one table per concern (``[network]``, ``[steps]``, ...). Every
field below carries its unit, its default and where the default comes from
(``paper``: Table I of Zhuang et al.; ``assumption``: ours, documented in
docs/scenarios.md). The schema is the single source of truth: validation,
``--set`` overrides, the resolved ``config.toml`` and the scenario reference
are all derived from these field declarations.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybridnet.errors import HybridnetError

AUTO = "auto"


def _spec(
    default: Any,
    doc: str,
    *,
    source: str = "assumption",
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    auto: bool = False,
    length: int | None = None,
    kind: str | None = None,
) -> Any:
    """Declare a scenario key: its default, doc (with unit), provenance and allowed values.

    ``kind`` is inferred from the default (boolean, int, number, string, list of
    int or number) unless the default is "auto", which needs it stated.
    """
    if kind is None:
        sample = default[0] if isinstance(default, list) else default
        kind = (
            "boolean" if isinstance(sample, bool)
            else "int" if isinstance(sample, int)
            else "number" if isinstance(sample, float)
            else "string"
        )
        if isinstance(default, list):
            kind = f"list of {kind}"
    meta = {
        "kind": kind,
        "doc": doc,
        "source": source,
        "lo": lo,
        "hi": hi,
        "choices": choices,
        "auto": auto,
        "length": length,
    }
    if isinstance(default, list):
        frozen = tuple(default)
        return field(default=frozen, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class NetworkConfig:
    """Who is in the cell."""

    num_ues: int = _spec(50, "number of UEs N", source="paper", lo=1, hi=1_000_000)
    num_groups: int | str = _spec(
        2, "number of prompt groups M (or \"auto\", chosen by the prompt agent)",
        source="paper", lo=1, hi=100_000, auto=True, kind="int",
    )


@dataclass(frozen=True)
class StepsConfig:
    """The denoising step budget split x + y + z = T_max (eq. 17b-17e)."""

    total: int = _spec(28, "T_max, denoising steps per image (SD3-Medium sampler)",
                       source="paper", lo=1, hi=1000)
    x_max: int = _spec(13, "largest number of common steps x_n", source="paper", lo=0, hi=1000)
    y_min: int = _spec(0, "fewest personalized ES steps y_n", source="paper", lo=0, hi=1000)
    y_max: int = _spec(16, "most personalized ES steps y_n", source="paper", lo=0, hi=1000)
    z_min: int = _spec(0, "fewest UE steps z_n", lo=0, hi=1000)
    z_max: int = _spec(28, "most UE steps z_n", lo=0, hi=1000)


@dataclass(frozen=True)
class EdgeConfig:
    """The edge server's GDM processor."""

    freq_hz: float = _spec(2e9, "ES CPU frequency per task f^ES, Hz", source="paper",
                           lo=1e6, hi=1e12)
    cycles_per_step: float = _spec(15e6, "xi_ES, cycles per denoising step on the ES",
                                   source="paper", lo=1.0, hi=1e15)
    kappa: float = _spec(1e-27, "kappa_ES, effective switched capacitance, J/(cycle*Hz^2)",
                         source="paper", lo=0.0, hi=1e-15)
    scheduler: str = _spec("dedicated", "ES scheduling: dedicated (the paper: no queueing), "
                           "fcfs over compute_units, ps (processor sharing)",
                           choices=("dedicated", "fcfs", "ps"))
    compute_units: int = _spec(8, "parallel compute units (fcfs, ps); each runs at freq_hz",
                               lo=1, hi=1_000_000)


@dataclass(frozen=True)
class UEConfig:
    """The user devices' CPUs."""

    freq_min_hz: float = _spec(1.4e9, "lower bound of f^UE ~ U[min, max], Hz", source="paper",
                               lo=1e6, hi=1e12)
    freq_max_hz: float = _spec(1.6e9, "upper bound of f^UE ~ U[min, max], Hz", source="paper",
                               lo=1e6, hi=1e12)
    cycles_per_step: float = _spec(14e6, "xi_UE, cycles per denoising step on a UE",
                                   source="paper", lo=1.0, hi=1e15)
    kappa: float = _spec(1e-27, "kappa_UE, effective switched capacitance, J/(cycle*Hz^2)",
                         source="paper", lo=0.0, hi=1e-15)
    freq_redraw: str = _spec("slot", "when f^UE is redrawn", choices=("slot", "episode"))


@dataclass(frozen=True)
class ChannelConfig:
    """The ES -> UE downlink (eq. 5-7)."""

    downlink: str = _spec("dedicated", "dedicated: b_n per UE (the paper); shared: "
                          "shared_bandwidth_hz split among concurrent transmissions",
                          choices=("dedicated", "shared"))
    bandwidth_hz: float = _spec(1e6, "b_n, bandwidth per UE (dedicated), Hz", lo=1.0, hi=1e12)
    shared_bandwidth_hz: float = _spec(20e6, "total band shared by concurrent downlinks, Hz",
                                       lo=1.0, hi=1e12)
    tx_power_w: float = _spec(0.5, "p_n, ES transmit power per UE, W", lo=1e-9, hi=1e3)
    noise_psd_dbm_hz: float = _spec(-174.0, "thermal noise PSD sigma0^2, dBm/Hz",
                                    lo=-250.0, hi=0.0)
    noise_figure_db: float = _spec(9.0, "UE receiver noise figure added to the PSD, dB",
                                   lo=0.0, hi=50.0)
    distance_min_m: float = _spec(50.0, "lower bound of the BS-UE distance ~ U, m",
                                  lo=1.0, hi=1e6)
    distance_max_m: float = _spec(300.0, "upper bound of the BS-UE distance ~ U, m",
                                  lo=1.0, hi=1e6)
    pathloss_at_1km_db: float = _spec(128.1, "path loss 128.1 + 37.6 log10(d_km): "
                                      "constant term, dB", lo=0.0, hi=300.0)
    pathloss_slope_db: float = _spec(37.6, "path loss slope per decade of distance, dB",
                                     lo=0.0, hi=100.0)
    fading: str = _spec("none", "small-scale fading drawn per slot: none or rayleigh "
                        "(unit-mean exponential power gain)", choices=("none", "rayleigh"))
    position_redraw: str = _spec("episode", "when UE distances are redrawn",
                                 choices=("episode", "slot"))


@dataclass(frozen=True)
class LatentConfig:
    """The latent sent over the downlink (eq. 5: n_h * n_w * d_h * rho / tau bits)."""

    height: int = _spec(128, "n_h, latent height", source="paper", lo=1, hi=100_000)
    width: int = _spec(128, "n_w, latent width", source="paper", lo=1, hi=100_000)
    channels: int = _spec(16, "d_h, latent channels", source="paper", lo=1, hi=100_000)
    bits_per_value: int = _spec(16, "rho, bits per latent value", source="paper", lo=1, hi=64)
    compression_ratio: float = _spec(4.0, "tau, compression ratio of the latent",
                                     lo=1e-3, hi=1e6)


@dataclass(frozen=True)
class QosConfig:
    """The hybrid-inference quality model (HIQM, eq. 12)."""

    model: str = _spec("fitted", "fitted: continuous Q(x, phi) fitted on the authors' "
                       "measured CLIP scores; paper: the five curves of Fig. 3",
                       choices=("fitted", "paper"))


@dataclass(frozen=True)
class PromptsConfig:
    """How personal prompts, groups and similarities phi_n (eq. 10) are produced."""

    scheme: str = _spec("his", "prompt scheme: his (the paper's), ppgfis, gfis, iis",
                        source="paper", choices=("his", "ppgfis", "gfis", "iis"))
    phi_source: str = _spec("synthetic", "embedding: real prompts and all-MiniLM-L6-v2; "
                            "synthetic: phi drawn from the scheme's fitted distribution",
                            choices=("embedding", "synthetic"))
    corpus: str = _spec("bundled", "personal prompt corpus: bundled, semct, or a CSV/TXT path")
    redraw: str = _spec("episode", "when prompts (groups and phi) are redrawn",
                        choices=("episode", "slot"))
    agent: str = _spec("offline", "HIS agent: offline (embeddings + clustering) or openai "
                       "(an OpenAI-compatible chat endpoint)", choices=("offline", "openai"))
    openai_base_url: str = _spec("", "base URL of the OpenAI-compatible endpoint")
    openai_model: str = _spec("", "model name at the OpenAI-compatible endpoint")


@dataclass(frozen=True)
class RewardConfig:
    """Eq. (17a), each term divided by a reference so the weights are comparable.

    The references default to the all-on-UE (``local``) decision of one typical
    UE (mid-range f^UE, the distance-averaged rate, mid-range phi), times N.
    They are resolved to numbers in the written config so a run can be repeated.
    """

    weights: tuple[float, float, float] = _spec(
        [0.6, 0.2, 0.2], "(w1, w2, w3) for QoS, delay and energy", lo=0.0, hi=1e6, length=3)
    qos_ref: float | str = _spec(AUTO, "QoS reference per UE (auto: Q of the local decision)",
                                 lo=1e-12, hi=1e12, auto=True, kind="number")
    delay_ref_s: float | str = _spec(AUTO, "delay reference per UE, s (auto: local decision)",
                                     lo=1e-12, hi=1e12, auto=True, kind="number")
    energy_ref_j: float | str = _spec(AUTO, "energy reference per UE, J (auto: local decision)",
                                      lo=1e-12, hi=1e12, auto=True, kind="number")


@dataclass(frozen=True)
class TrainConfig:
    """The HID controller's training (IPPO, one actor and one critic per UE).

    ``mode = "paper"`` is the paper's HID as described: independent per-UE actors
    and critics over all (x, y) pairs, the shared team reward (20). ``mode =
    "default"`` keeps per-UE PPO actors and critics but adds an ES-level group
    actor (one network, asked once per group) that picks the group's common
    steps X_m; each UE actor then picks its offset X_m - x_n and y_n and is
    rewarded with its own terms of (17a), which removes the coupling through the
    max in (1) that defeats the team-reward IPPO (see hybridnet/rl/train.py).
    """

    mode: str = _spec("default", "default: group actor for X_m + per-UE actors (near-optimal); "
                      "paper: the paper's IPPO with the team reward, for reproduction",
                      choices=("default", "paper"))
    learning_rate: float = _spec(5e-4, "Adam learning rate of every actor and critic",
                                 source="paper", lo=1e-9, hi=1.0)
    group_learning_rate: float = _spec(1e-4, "Adam learning rate of the group actor and critic "
                                       "(default mode); lower, so X_m does not commit before the "
                                       "UE actors have learnt their best responses",
                                       lo=1e-9, hi=1.0)
    batch_size: int = _spec(128, "largest PPO minibatch, in samples per agent (a rollout of "
                            "one 20-slot episode is one minibatch)", source="paper",
                            lo=1, hi=1_000_000)
    hidden: tuple[int, ...] = _spec([128, 128, 128], "hidden layer widths of actor and critic",
                                    source="paper", lo=1, hi=65536)
    episodes: int = _spec(500, "training episodes (each train.episode_slots slots)",
                          source="paper", lo=1, hi=10_000_000)
    episode_slots: int | str = _spec(AUTO, "slots per training episode (auto: sim.slots, "
                                     "written as a number into a resolved config, so a run "
                                     "of other length keeps its controller)",
                                     lo=1, hi=10_000_000, auto=True, kind="int")
    episodes_per_update: int = _spec(1, "episodes collected per PPO update (the rollout); "
                                     "updating after every episode is what lets the paper-mode "
                                     "HID converge within 500 episodes",
                                     lo=1, hi=1_000_000)
    epochs: int = _spec(4, "passes over each rollout per update", lo=1, hi=1000)
    gamma: float = _spec(0.0, "discount factor; 0 because a slot's action never changes the "
                         "next slot's conditions (0.99 makes the paper-mode HID learn nothing "
                         "in 500 episodes: the other slots' rewards only add noise)",
                         lo=0.0, hi=1.0)
    gae_lambda: float = _spec(0.95, "GAE lambda", lo=0.0, hi=1.0)
    clip: float = _spec(0.2, "PPO clipping range epsilon of the surrogate (21)", lo=0.0, hi=10.0)
    entropy_coef: float = _spec(0.01, "weight of the entropy bonus in the loss", lo=0.0, hi=100.0)
    value_coef: float = _spec(0.5, "weight of the critic's squared error in the loss",
                              lo=0.0, hi=100.0)
    max_grad_norm: float = _spec(0.5, "gradient norm clip, per agent (actor and critic together)",
                                 lo=1e-9, hi=1e9)
    advantage_norm: bool = _spec(True, "normalise advantages per minibatch (and per agent)",
                                 source="paper")
    reward_scaling: bool = _spec(True, "divide rewards by the running std of the discounted "
                                 "return, no mean subtraction (Gymnasium NormalizeReward)",
                                 source="paper")
    bound_exploration: float = _spec(0.5, "default mode: share of the first training episodes "
                                     "in which X_m is drawn uniformly instead of by the group "
                                     "actor, so the UE actors learn their best response to "
                                     "every X_m; annealed linearly to 0 at the last episode",
                                     lo=0.0, hi=1.0)
    engine: str = _spec("closed", "what evaluates the training decisions: closed (the "
                        "closed-form model, fast) or des (the discrete-event simulation)",
                        choices=("closed", "des"))
    device: str = _spec("cpu", "torch device: cpu, or auto (a GPU where one exists)",
                        choices=("cpu", "auto"))
    seed: int = _spec(0, "root seed of training (weights, exploration, training slots); "
                      "evaluation runs draw their slots from [sim] seed", lo=0, hi=2**63 - 1)
    checkpoint_every: int = _spec(25, "episodes between checkpoints written during training",
                                  lo=1, hi=10_000_000)
    threads: int = _spec(1, "torch CPU threads while training (0: torch's default); each "
                         "agent's network is small, and on a busy machine extra threads "
                         "slow training down several-fold", lo=0, hi=1024)


@dataclass(frozen=True)
class SimConfig:
    """The discrete-event simulation around the model."""

    slots: int = _spec(20, "slots per run (and per training episode)", lo=1, hi=10_000_000)
    slot_s: float = _spec(1.0, "slot length: time between the controller's decisions, s",
                          lo=1e-6, hi=1e9)
    arrivals: str = _spec("synchronous", "synchronous: every UE requests at the slot start "
                          "(the paper); poisson: each slot's requests are the points of a "
                          "Poisson process over the slot (uniform offsets)",
                          choices=("synchronous", "poisson"))
    early_handoff: bool = _spec(False, "phase I of UE n starts when common step x_n is done, "
                                "not after all x_m^max steps (eq. 13 waits)")
    seed: int = _spec(0, "root random seed", lo=0, hi=2**63 - 1)
    engine: str = _spec("des", "the engine `hybridnet run` uses when --engine is not given: "
                        "des (SimPy network with queues) or closed (eq. 1-17 directly)",
                        choices=("des", "closed"))
    policy: str = _spec("hid", "the policy `hybridnet run` uses when --policy is not given: "
                        "hid, oracle, random, local, fixed:X,Y or a checkpoint path")


SECTIONS: dict[str, type] = {
    "network": NetworkConfig,
    "steps": StepsConfig,
    "edge": EdgeConfig,
    "ue": UEConfig,
    "channel": ChannelConfig,
    "latent": LatentConfig,
    "qos": QosConfig,
    "prompts": PromptsConfig,
    "reward": RewardConfig,
    "train": TrainConfig,
    "sim": SimConfig,
}


@dataclass(frozen=True)
class Scenario:
    """A fully validated scenario; ``source`` names the file it came from."""

    network: NetworkConfig = field(default_factory=NetworkConfig)
    steps: StepsConfig = field(default_factory=StepsConfig)
    edge: EdgeConfig = field(default_factory=EdgeConfig)
    ue: UEConfig = field(default_factory=UEConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    latent: LatentConfig = field(default_factory=LatentConfig)
    qos: QosConfig = field(default_factory=QosConfig)
    prompts: PromptsConfig = field(default_factory=PromptsConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    source: str = "defaults"
    origin: str = ""
    """The command that first produced this configuration, carried by a run's config.toml
    (its ``# origin:`` line) so that rerunning it keeps the same header."""

    def replace(self, **sections: Any) -> Scenario:
        """A copy with whole sections replaced (``scenario.replace(sim=...)``)."""
        return dataclasses.replace(self, **sections)

    def with_values(self, values: dict[str, Any]) -> Scenario:
        """A copy with ``{"section.key": value}`` applied and validated."""
        raw = to_dict(self)
        for dotted, value in values.items():
            section, key = _split_key(self.source, dotted)
            raw.setdefault(section, {})[key] = value
        return from_dict(raw, self.source)


# --------------------------------------------------------------------------- parsing


def _split_key(source: str, dotted: str) -> tuple[str, str]:
    section, _, key = dotted.partition(".")
    if not key or section not in SECTIONS:
        raise HybridnetError(
            f"{source}: key '{dotted}' must be section.key with section one of "
            f"{', '.join(SECTIONS)}"
        )
    names = [f.name for f in dataclasses.fields(SECTIONS[section])]
    if key not in names:
        raise HybridnetError(
            f"{source}: unknown key '{dotted}'; [{section}] allows {', '.join(names)}"
        )
    return section, key


def allowed_values(f: dataclasses.Field) -> str:
    """What a key accepts, in words, for error messages and the reference."""
    m = f.metadata
    if m["choices"]:
        return "one of " + ", ".join(f'"{c}"' for c in m["choices"])
    kind = _kind(f)
    rng = ""
    if m["lo"] is not None:
        rng = f" in [{m['lo']:g}, {m['hi']:g}]"
    if kind.startswith("list"):
        n = f"{m['length']} " if m["length"] else ""
        item = "integers" if kind.endswith("int") else "numbers"
        text = f"a list of {n}{item}{rng}"
    else:
        text = f"{'an integer' if kind == 'int' else 'a ' + kind}{rng}"
    if m["auto"]:
        text += ' or "auto"'
    return text


def _kind(f: dataclasses.Field) -> str:
    return f.metadata["kind"]


def _coerce(source: str, section: str, f: dataclasses.Field, value: Any) -> Any:
    """Check one value against its declaration; return it in its canonical type."""
    m = f.metadata
    where = f"{source}: [{section}] {f.name} = {value!r}"

    def bad() -> HybridnetError:
        return HybridnetError(f"{where} is not allowed; expected {allowed_values(f)}")

    if m["auto"] and value == AUTO:
        return AUTO
    kind = _kind(f)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad()
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise bad()
        if m["choices"] and value not in m["choices"]:
            raise bad()
        return value
    is_list = kind.startswith("list")
    if is_list and (not isinstance(value, list | tuple) or not value):
        raise bad()
    items = list(value) if is_list else [value]
    if is_list and m["length"] and len(items) != m["length"]:
        raise bad()
    out = []
    int_items = kind in ("int", "list of int")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise bad()
        if int_items:
            if isinstance(item, float) and not item.is_integer():
                raise bad()
            item = int(item)
        else:
            item = float(item)
            if not math.isfinite(item):
                raise bad()
        if m["lo"] is not None and not (m["lo"] <= item <= m["hi"]):
            raise bad()
        out.append(item)
    return tuple(out) if is_list else out[0]


def _check_consistency(s: Scenario) -> None:
    """Cross-key rules that no single range can express."""
    src = s.source
    st = s.steps
    if st.x_max > st.total:
        raise HybridnetError(f"{src}: [steps] x_max = {st.x_max} must be <= total = {st.total}")
    if st.y_min > st.y_max:
        raise HybridnetError(f"{src}: [steps] y_min = {st.y_min} must be <= y_max = {st.y_max}")
    if st.z_min > st.z_max:
        raise HybridnetError(f"{src}: [steps] z_min = {st.z_min} must be <= z_max = {st.z_max}")
    # x = 0 must always be feasible: IIS and the local policy rely on it.
    lo, hi = st.total - st.z_max, st.total - st.z_min
    if max(lo, st.y_min) > min(hi, st.y_max):
        raise HybridnetError(
            f"{src}: [steps] infeasible step ranges: with x = 0 no y in [{st.y_min}, {st.y_max}] "
            f"leaves z = total - y in [{st.z_min}, {st.z_max}] (total = {st.total})"
        )
    for lo_key, hi_key, table in (
        ("freq_min_hz", "freq_max_hz", s.ue),
        ("distance_min_m", "distance_max_m", s.channel),
    ):
        if getattr(table, lo_key) > getattr(table, hi_key):
            name = "ue" if table is s.ue else "channel"
            raise HybridnetError(
                f"{src}: [{name}] {lo_key} = {getattr(table, lo_key)!r} must be <= "
                f"{hi_key} = {getattr(table, hi_key)!r}"
            )
    if isinstance(s.network.num_groups, int) and s.network.num_groups > s.network.num_ues:
        raise HybridnetError(
            f"{src}: [network] num_groups = {s.network.num_groups} must be <= num_ues = "
            f"{s.network.num_ues}"
        )
    if s.network.num_groups == AUTO and s.prompts.phi_source != "embedding":
        raise HybridnetError(
            f"{src}: [network] num_groups = \"auto\" needs [prompts] phi_source = "
            f"\"embedding\" (there are no prompts to cluster with synthetic phi)"
        )
    if not any(s.reward.weights):
        raise HybridnetError(f"{src}: [reward] weights = {list(s.reward.weights)} are all zero")
    if s.prompts.agent == "openai" and not (s.prompts.openai_base_url and s.prompts.openai_model):
        raise HybridnetError(
            f"{src}: [prompts] agent = \"openai\" needs openai_base_url and openai_model"
        )


def from_dict(raw: dict[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a nested ``{section: {key: value}}`` mapping into a :class:`Scenario`."""
    sections: dict[str, Any] = {}
    for section, table in raw.items():
        if section not in SECTIONS:
            raise HybridnetError(
                f"{source}: unknown section [{section}]; allowed: {', '.join(SECTIONS)}"
            )
        if not isinstance(table, dict):
            raise HybridnetError(f"{source}: [{section}] must be a table")
        cls = SECTIONS[section]
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values = {}
        for key, value in table.items():
            if key not in fields:
                raise HybridnetError(
                    f"{source}: unknown key [{section}] {key}; allowed: {', '.join(fields)}"
                )
            values[key] = _coerce(source, section, fields[key], value)
        sections[section] = cls(**values)
    scenario = Scenario(**sections, source=source)
    _check_consistency(scenario)
    return scenario


def to_dict(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """The nested mapping of every key (defaults filled in), lists as lists."""
    out: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        table = getattr(scenario, section)
        out[section] = {
            f.name: list(v) if isinstance(v := getattr(table, f.name), tuple) else v
            for f in dataclasses.fields(table)
        }
    return out


def parse_value(text: str) -> Any:
    """Read a ``--set`` value as TOML; a bare word that is not TOML is a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_overrides(items: list[str] | tuple[str, ...], source: str = "--set") -> dict[str, Any]:
    """Turn ``["edge.freq_hz=1e9", ...]`` into ``{"edge.freq_hz": 1e9, ...}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise HybridnetError(f"{source}: '{item}' must look like section.key=value")
        out[key.strip()] = parse_value(text.strip())
    return out


def read_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file, then apply ``overrides`` (``section.key -> value``)."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HybridnetError(f"{source}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise HybridnetError(f"{source}: cannot read scenario file ({err})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise HybridnetError(f"{source}: invalid TOML: {err}") from None
    scenario = dataclasses.replace(from_dict(raw, source), origin=_read_origin(text))
    if overrides:
        for dotted, value in overrides.items():
            section, key = _split_key(f"{source} (--set)", dotted)
            raw.setdefault(section, {})[key] = value
        scenario = from_dict(raw, f"{source} (with --set)")
        scenario = dataclasses.replace(scenario, source=source)
    return scenario


ORIGIN_PREFIX = "# origin: "


def _read_origin(text: str) -> str:
    """The ``# origin:`` line of a run's config.toml, from the comments that open it."""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith(ORIGIN_PREFIX):
            return line[len(ORIGIN_PREFIX):].strip()
    return ""


# --------------------------------------------------------------------------- writing


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "nan"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(scenario: Scenario, header: list[str] | None = None) -> str:
    """The scenario as TOML, every key written, floats round-tripping bit for bit.

    ``header`` replaces the opening comment (by default, where it was read from).
    """
    lines = [f"# {line}" for line in header] if header else [f"# resolved from {scenario.source}"]
    for section, table in to_dict(scenario).items():
        lines.append(f"\n[{section}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in table.items())
    return "\n".join(lines) + "\n"
