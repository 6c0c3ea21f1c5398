"""The scenario's tables, one frozen dataclass per concern, every key declared with :func:`key`.

Every field carries its unit, its default and where the default comes from
(``paper``: Table I of Zhuang et al.; ``assumption``: ours, documented in
docs/scenarios.md). A key that names an implementation (a scheduler, a QoS
model, an engine...) takes its names and their docs from :mod:`hybridnet.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hybridnet.registry import (
    ARRIVALS,
    CONTROLLERS,
    DEVICES,
    DOWNLINKS,
    EDGE_SCHEDULERS,
    ENGINES,
    FADINGS,
    HIS_AGENTS,
    PHI_SOURCES,
    POLICIES,
    PROMPT_SCHEMES,
    QOS_MODELS,
    REDRAWS,
    TRAIN_MODES,
)
from hybridnet.scenario.keys import AUTO, key

# The ES and the UEs are processors of the same model (eq. 1-4 and 8-9): their
# frequency, cycles per step and capacitance are declared alike.


def _frequency(default: float, doc: str) -> Any:
    """A CPU frequency of Table I, Hz."""
    return key(default, doc, source="paper", lo=1e6, hi=1e12)


def _cycles_per_step(default: float, device: str, where: str) -> Any:
    """xi of ``device`` ("ES" or "UE"), the cycles one denoising step takes on ``where``."""
    return key(default, f"xi_{device}, cycles per denoising step on {where}", source="paper",
               lo=1.0, hi=1e15)


def _kappa(device: str) -> Any:
    """kappa of ``device`` ("ES" or "UE"), Table I's 1e-27 for both."""
    return key(1e-27, f"kappa_{device}, effective switched capacitance, J/(cycle*Hz^2)",
               source="paper", lo=0.0, hi=1e-15)


@dataclass(frozen=True)
class NetworkConfig:
    """Who is in the cell."""

    num_ues: int = key(50, "number of UEs N", source="paper", lo=1, hi=1_000_000)
    num_groups: int | str = key(
        2, "number of prompt groups M (or \"auto\", chosen by the prompt agent)",
        source="paper", lo=1, hi=100_000, auto=True, kind="int",
    )


@dataclass(frozen=True)
class StepsConfig:
    """The denoising step budget split x + y + z = T_max (eq. 17b-17e)."""

    total: int = key(28, "T_max, denoising steps per image (SD3-Medium sampler)",
                     source="paper", lo=1, hi=1000)
    x_max: int = key(13, "largest number of common steps x_n", source="paper", lo=0, hi=1000)
    y_min: int = key(0, "fewest personalized ES steps y_n", source="paper", lo=0, hi=1000)
    y_max: int = key(16, "most personalized ES steps y_n", source="paper", lo=0, hi=1000)
    z_min: int = key(0, "fewest UE steps z_n", lo=0, hi=1000)
    z_max: int = key(28, "most UE steps z_n", lo=0, hi=1000)


@dataclass(frozen=True)
class EdgeConfig:
    """The edge server's GDM processor."""

    freq_hz: float = _frequency(2e9, "ES CPU frequency per task f^ES, Hz")
    cycles_per_step: float = _cycles_per_step(15e6, "ES", "the ES")
    kappa: float = _kappa("ES")
    scheduler: str = key("dedicated", "ES scheduling", choices=EDGE_SCHEDULERS)
    compute_units: int = key(8, "parallel compute units (fcfs, ps); each runs at freq_hz",
                             lo=1, hi=1_000_000)

    @property
    def backlog_units(self) -> int:
        """The ES's capacity in units as the controller sees it, the one source of it: what
        the reported ES backlog is divided by, and what the fluid and dpp policies plan
        and price the ES with (:meth:`FluidPolicy.from_scenario
        <hybridnet.policies.fluid.FluidPolicy.from_scenario>`), so that a plan and the
        backlog it is measured against count the same units. ``compute_units`` under
        fcfs and ps; 1 under ``dedicated``, whose processor per task has no count."""
        return 1 if self.scheduler == "dedicated" else self.compute_units


@dataclass(frozen=True)
class UEConfig:
    """The user devices' CPUs."""

    freq_min_hz: float = _frequency(1.4e9, "lower bound of f^UE ~ U[min, max], Hz")
    freq_max_hz: float = _frequency(1.6e9, "upper bound of f^UE ~ U[min, max], Hz")
    cycles_per_step: float = _cycles_per_step(14e6, "UE", "a UE")
    kappa: float = _kappa("UE")
    freq_redraw: str = key("slot", "when f^UE is redrawn", choices=REDRAWS)


@dataclass(frozen=True)
class ChannelConfig:
    """The ES -> UE downlink (eq. 5-7)."""

    downlink: str = key("dedicated", "how the band is given to the downlinks", choices=DOWNLINKS)
    bandwidth_hz: float = key(1e6, "b_n, bandwidth per UE (dedicated), Hz", lo=1.0, hi=1e12)
    shared_bandwidth_hz: float = key(20e6, "total band shared by concurrent downlinks, Hz",
                                     lo=1.0, hi=1e12)
    tx_power_w: float = key(0.5, "p_n, ES transmit power per UE, W", lo=1e-9, hi=1e3)
    noise_psd_dbm_hz: float = key(-174.0, "thermal noise PSD sigma0^2, dBm/Hz",
                                  lo=-250.0, hi=0.0)
    noise_figure_db: float = key(9.0, "UE receiver noise figure added to the PSD, dB",
                                 lo=0.0, hi=50.0)
    distance_min_m: float = key(50.0, "lower bound of the BS-UE distance ~ U, m",
                                lo=1.0, hi=1e6)
    distance_max_m: float = key(300.0, "upper bound of the BS-UE distance ~ U, m",
                                lo=1.0, hi=1e6)
    pathloss_at_1km_db: float = key(128.1, "path loss 128.1 + 37.6 log10(d_km): "
                                    "constant term, dB", lo=0.0, hi=300.0)
    pathloss_slope_db: float = key(37.6, "path loss slope per decade of distance, dB",
                                   lo=0.0, hi=100.0)
    fading: str = key("none", "small-scale fading", choices=FADINGS)
    position_redraw: str = key("episode", "when UE distances are redrawn", choices=REDRAWS)


@dataclass(frozen=True)
class LatentConfig:
    """The latent sent over the downlink (eq. 5: n_h * n_w * d_h * rho / tau bits)."""

    height: int = key(128, "n_h, latent height", source="paper", lo=1, hi=100_000)
    width: int = key(128, "n_w, latent width", source="paper", lo=1, hi=100_000)
    channels: int = key(16, "d_h, latent channels", source="paper", lo=1, hi=100_000)
    bits_per_value: int = key(16, "rho, bits per latent value", source="paper", lo=1, hi=64)
    compression_ratio: float = key(4.0, "tau, compression ratio of the latent",
                                   lo=1e-3, hi=1e6)


@dataclass(frozen=True)
class QosConfig:
    """The hybrid-inference quality model (HIQM, eq. 12)."""

    model: str = key("fitted", "the QoS model Q(x, phi)", choices=QOS_MODELS)


@dataclass(frozen=True)
class PromptsConfig:
    """How personal prompts, groups and similarities phi_n (eq. 10) are produced."""

    scheme: str = key("his", "prompt scheme", source="paper", choices=PROMPT_SCHEMES)
    phi_source: str = key("synthetic", "where phi comes from", choices=PHI_SOURCES)
    corpus: str = key("bundled", "personal prompt corpus: bundled, semct, or a CSV/TXT path")
    redraw: str = key("episode", "when prompts (groups and phi) are redrawn", choices=REDRAWS)
    agent: str = key("offline", "HIS agent", choices=HIS_AGENTS)
    openai_base_url: str = key("", "base URL of the OpenAI-compatible endpoint")
    openai_model: str = key("", "model name at the OpenAI-compatible endpoint")


@dataclass(frozen=True)
class RewardConfig:
    """Eq. (17a), each term divided by a reference so the weights are comparable.

    The references default to the all-on-UE (``local``) decision of one typical
    UE (mid-range f^UE, the distance-averaged rate, mid-range phi), times N.
    They are resolved to numbers in the written config so a run can be repeated.
    """

    weights: tuple[float, float, float] = key(
        [0.6, 0.2, 0.2], "(w1, w2, w3) for QoS, delay and energy", lo=0.0, hi=1e6, length=3)
    qos_ref: float | str = key(AUTO, "QoS reference per UE (auto: Q of the local decision)",
                               lo=1e-12, hi=1e12, auto=True, kind="number")
    delay_ref_s: float | str = key(AUTO, "delay reference per UE, s (auto: local decision)",
                                   lo=1e-12, hi=1e12, auto=True, kind="number")
    energy_ref_j: float | str = key(AUTO, "energy reference per UE, J (auto: local decision)",
                                    lo=1e-12, hi=1e12, auto=True, kind="number")


DES_GAMMA = 0.9

TRAIN_AUTO: dict[str, dict[str, float]] = {
    "gamma": {"closed": 0.0, "des": DES_GAMMA},
    "bound_exploration": {"closed": 0.5, "des": 0.0},
    "shared_samples": {"closed": 512, "des": 2048},
}
"""What each "auto" key of [train] resolves to, per training engine (``train.engine``, itself
auto: :func:`hybridnet.model.reference.training_engine`); the keys' help is written from it."""

DEFAULT_MODE_KEYS = ("group_learning_rate", "bound_exploration", "imitation", "behind_slots",
                     "shared_samples")
"""[train] keys that act only in ``mode = "default"`` (paper mode has no group actor, no
shared UE actor and no teacher)."""
DES_ONLY_KEYS = ("behind_slots",)
"""[train] keys that act only when training runs on the DES (``engine = "des"``)."""


def _auto(name: str, closed_why: str, des_why: str) -> str:
    """The "(auto: ...)" part of a [train] key's help, its values from :data:`TRAIN_AUTO`."""
    values = TRAIN_AUTO[name]
    return (f"(auto: {values['closed']:g} on the closed form{closed_why}; "
            f"{values['des']:g} on the DES{des_why})")
"""``train.gamma`` on the DES: a decision's effect on the queues fades over about ten slots."""


@dataclass(frozen=True)
class TrainConfig:
    """The HID controller's training (PPO actors and critics queried every slot).

    ``mode = "paper"`` is the paper's HID as described: independent per-UE actors
    and critics over all (x, y) pairs, the shared team reward (20). ``mode =
    "default"`` adds an ES-level group actor (one network, asked once per group)
    that picks the group's common steps X_m; one UE actor shared by every UE then
    picks each UE's offset X_m - x_n and y_n and is rewarded with that UE's own
    terms of (17a), and both learn from a teacher too (``imitation``): the closed-form
    oracle, or on the DES the fluid policy. Under (13) a member waits for X_m anyway, so
    choosing X_m once per group, where its cost is paid, takes away the coordination through
    the max in (1) that independent actors sharing one reward would need.
    docs/controller.md explains both; experiments/README.md measures them.
    """

    mode: str = key("default", "controller design", choices=TRAIN_MODES)
    controller: str = key("auto", "what --policy hid runs without --checkpoint",
                          choices=CONTROLLERS)
    learning_rate: float = key(5e-4, "Adam learning rate of every actor and critic",
                               source="paper", lo=1e-9, hi=1.0)
    group_learning_rate: float = key(1e-4, "Adam learning rate of the group actor and critic "
                                     "(default mode); lower, so X_m does not commit before the "
                                     "UE actors have learnt their best responses",
                                     lo=1e-9, hi=1.0)
    batch_size: int = key(128, "largest PPO minibatch, in samples per agent (a rollout of "
                          "one 20-slot episode is one minibatch)", source="paper",
                          lo=1, hi=1_000_000)
    hidden: tuple[int, ...] = key([128, 128, 128], "hidden layer widths of actor and critic",
                                  source="paper", lo=1, hi=65536)
    episodes: int = key(500, "training episodes (each train.episode_slots slots)",
                        source="paper", lo=1, hi=10_000_000)
    episode_slots: int | str = key(AUTO, "slots per training episode (auto: sim.slots, "
                                   "written as a number into a resolved config, so a run "
                                   "of other length keeps its controller)",
                                   lo=1, hi=10_000_000, auto=True, kind="int")
    episodes_per_update: int = key(1, "episodes collected per PPO update (the rollout); "
                                   "1, because within the paper's 500 episodes many small "
                                   "updates teach the actors more than a few large ones",
                                   lo=1, hi=1_000_000)
    epochs: int = key(4, "passes over each rollout per update", lo=1, hi=1000)
    gamma: float | str = key(AUTO, "discount factor " + _auto(
        "gamma", ", where a slot's action never changes the next slot's conditions so the "
        "other slots' rewards would only add noise to its return",
        ", where work left in a queue delays the next slots' requests"),
        lo=0.0, hi=1.0, auto=True, kind="number")
    gae_lambda: float = key(0.95, "GAE lambda", lo=0.0, hi=1.0)
    clip: float = key(0.2, "PPO clipping range epsilon of the surrogate (21)", lo=0.0, hi=10.0)
    entropy_coef: float = key(0.01, "weight of the entropy bonus in the loss", lo=0.0, hi=100.0)
    value_coef: float = key(0.5, "weight of the critic's squared error in the loss",
                            lo=0.0, hi=100.0)
    max_grad_norm: float = key(0.5, "gradient norm clip, per agent (actor and critic together)",
                               lo=1e-9, hi=1e9)
    advantage_norm: bool = key(True, "normalise advantages per minibatch (and per agent)",
                               source="paper")
    reward_scaling: bool = key(True, "divide rewards by the running std of the discounted "
                               "return, no mean subtraction (Gymnasium NormalizeReward)",
                               source="paper")
    bound_exploration: float | str = key(AUTO, "default mode: share of the first training "
                                         "episodes in which X_m is drawn uniformly instead "
                                         "of by the group actor, so the UE actors learn their "
                                         "best response to every X_m; annealed linearly to 0 "
                                         "at the last episode " + _auto(
                                             "bound_exploration", "", ", where a random X_m "
                                             "floods the ES and its queue outlives the episode"),
                                         lo=0.0, hi=1.0, auto=True, kind="number")
    imitation: float = key(1.0, "default mode: weight of the auxiliary imitation loss, the "
                           "cross-entropy of a teacher's choices (each UE's best response to "
                           "the X_m its group drew, the group's optimal X_m) added to the PPO "
                           "loss; 0 for pure PPO. The teacher is the oracle on the closed "
                           "form and the fluid policy (the oracle held to the capacities) on "
                           "the DES. Paper mode never imitates", lo=0.0, hi=1000.0)
    behind_slots: float = key(0.0, "default mode on the DES: a UE whose CPU backlog at the "
                              "decision epoch exceeds this many slots of work may only choose "
                              "splits whose phase II work fits one slot, or overflows it no "
                              "more than the fluid policy's answer to its group's X_m does "
                              "(unless that answer overflows by more than a tenth: the UE "
                              "falls behind by design); 0: off. 2 (a UE keeping up holds "
                              "about two: its previous request, which may not have started, "
                              "and the rest of the one before) keeps every UE up near the "
                              "cell's capacity (experiments/README.md)",
                              lo=0.0, hi=1e6)
    shared_samples: int | str = key(AUTO, "default mode: decisions drawn at random from each "
                                    "rollout for the shared UE actor's update, one minibatch "
                                    "per epoch; bounds the update's cost whatever the number "
                                    "of UEs; it replaces batch_size for that actor " + _auto(
                                        "shared_samples", "", ", where an episode costs more "
                                        "than an update, so each should teach more"),
                                    lo=1, hi=100_000_000, auto=True,
                                    kind="int")
    engine: str = key(AUTO, "what evaluates the training decisions (auto: des where queues "
                      "form between slots, an fcfs or ps ES or a shared downlink; else closed, "
                      "which is exact there and fast). Trained on the DES, the actors also "
                      "observe the queues", choices=ENGINES, auto=True, kind="string")
    device: str = key("cpu", "torch device", choices=DEVICES)
    seed: int = key(0, "root seed of training (weights, exploration, training slots); "
                    "evaluation runs draw their slots from [sim] seed", lo=0, hi=2**63 - 1)
    checkpoint_every: int = key(25, "episodes between checkpoints written during training",
                                lo=1, hi=10_000_000)
    threads: int = key(1, "torch CPU threads while training (0: torch's default); each "
                       "agent's network is small, and on a busy machine extra threads "
                       "slow training down several-fold", lo=0, hi=1024)


DPP_V_S2 = 100.0
"""Default V of ``dpp``, s^2: the best of 10, 30, 100, 300, 1000 on ``scenarios/dense.toml``
(reward 0.08 over 100 DES slots; 30 and 300 give about 0, 1000 gives -0.29)."""


@dataclass(frozen=True)
class SimConfig:
    """The discrete-event simulation around the model."""

    slots: int = key(20, "slots per run (and per training episode)", lo=1, hi=10_000_000)
    slot_s: float = key(1.0, "slot length: time between the controller's decisions, s",
                        lo=1e-6, hi=1e9)
    arrivals: str = key("synchronous", "when each slot's requests are issued", choices=ARRIVALS)
    early_handoff: bool = key(False, "phase I of UE n starts when common step x_n is done, "
                              "not after all x_m^max steps (eq. 13 waits)")
    seed: int = key(0, "root random seed", lo=0, hi=2**63 - 1)
    engine: str = key("des", "the engine `hybridnet run` uses when --engine is not given",
                      choices=ENGINES)
    policy: str = key("hid", "the policy `hybridnet run` uses when --policy is not given: "
                      f"{POLICIES.describe()}")
    sample: bool = key(False, "HID draws its actions from its policies instead of acting "
                       "greedily (`hybridnet run --sample` sets it)")
    dpp_v: float = key(DPP_V_S2, "V of the drift-plus-penalty policy `dpp`, s^2: it maximises "
                       "V * reward - sum of backlog (s) * work the decision adds (s) over the "
                       "UE CPUs and the ES (weighted N); larger V weighs the reward more, "
                       "smaller keeps the queues shorter (docs/controller.md)", lo=1e-12, hi=1e12)


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
"""Every table of a scenario, in the order a written config lists them."""
