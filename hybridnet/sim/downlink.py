"""The ES -> UE downlink that carries each UE's latent (eq. 5-7).

Chosen by ``[channel] downlink``:

- ``dedicated`` (the paper): every UE has its own ``bandwidth_hz``, so a
  transmission takes payload / r_n with r_n from eq. (6), whatever else is
  on the air.
- ``shared``: ``shared_bandwidth_hz`` is split equally among the
  transmissions in progress; each is served at the Shannon rate of its share
  of the band (eq. 6 with b = band / n) and its own channel gain, recomputed
  whenever a transmission starts or ends (a :class:`SharingServer` over bits).

Neither queues: a transmission starts as soon as its phase I has ended (under
``shared`` it slows the others down instead). The transmit energy is
p_n times the time actually spent on the air (eq. 7), computed by the recorder.
"""

from __future__ import annotations

from typing import Protocol

import simpy

from hybridnet.model.costs import downlink_rate_bps
from hybridnet.model.physics import PhysicsParams
from hybridnet.registry import DOWNLINKS
from hybridnet.scenario import ChannelConfig
from hybridnet.sim.plan import SlotPlan
from hybridnet.sim.sharing import SharingServer


class Downlink(Protocol):
    """What a UE's request sees of the radio."""

    def transmit(self, plan: SlotPlan, ue: int) -> simpy.Event:
        """An event that succeeds once UE ``ue``'s latent of that slot has been received."""
        ...

    def in_flight(self) -> tuple[int, float]:
        """Transmissions on the air now, and the bits they still have to send."""
        ...


class DedicatedDownlink:
    """Each UE on its own band b_n: the transfer takes exactly eq. (5)."""

    def __init__(self, env: simpy.Environment, config: ChannelConfig,
                 params: PhysicsParams) -> None:
        self.env = env
        self.payload_bits = params.payload_bits
        self.transfers: list[tuple[float, float]] = []     # (end, duration) on the air

    def transmit(self, plan: SlotPlan, ue: int) -> simpy.Event:
        self.transfers.append((self.env.now + plan.tx_s[ue], plan.tx_s[ue]))
        return self.env.timeout(plan.tx_s[ue])

    def in_flight(self) -> tuple[int, float]:
        now = self.env.now
        self.transfers = [(end, span) for end, span in self.transfers if end > now]
        # each at its constant rate payload / duration (eq. 5)
        left = sum(self.payload_bits * (end - now) / span for end, span in self.transfers)
        return len(self.transfers), left


class SharedDownlink:
    """One band split equally among concurrent transmissions, each at its own Shannon rate."""

    def __init__(self, env: simpy.Environment, config: ChannelConfig,
                 params: PhysicsParams) -> None:
        band_hz = config.shared_bandwidth_hz
        self.payload_bits = params.payload_bits
        self.band = SharingServer(
            env, lambda gains, n: downlink_rate_bps(params, gains, band_hz / n))  # eq. (6)

    def transmit(self, plan: SlotPlan, ue: int) -> simpy.Event:
        return self.band.serve(self.payload_bits, plan.gain[ue])

    def in_flight(self) -> tuple[int, float]:
        return self.band.load()


BANDS = DOWNLINKS.implement({"dedicated": DedicatedDownlink, "shared": SharedDownlink})


def make_downlink(env: simpy.Environment, config: ChannelConfig,
                  params: PhysicsParams) -> Downlink:
    """The downlink ``config.downlink`` names (one line for an unknown one)."""
    return DOWNLINKS.pick(BANDS, config.downlink)(env, config, params)
