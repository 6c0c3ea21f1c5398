"""What each population of actors is rewarded with, as reward streams GAE runs along.

- ``paper`` mode: every UE actor gets the slot's reward (17a), the shared team
  reward (20) of the paper's HID: N learners, one stream each.
- ``default`` mode: UE n gets its own terms of (17a),
  ``w1 Q_n / Q_ref - w2 T_n / T_ref - w3 E_n / E_ref`` (T_n includes waiting for
  X_m): one shared learner, N streams. The group actor gets its group's terms
  (members' plus the common phase's energy) per member, one stream per group. The
  sum over UEs and groups is N times the slot reward, so nothing is rewarded that
  the objective does not reward.

docs/controller.md says why the two modes differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridnet.model.reward import RewardParams
from hybridnet.rl.controller import Decision
from hybridnet.rl.rollout import EpisodeOutcome


@dataclass(frozen=True)
class Streams:
    """One population's rewards and values along the slots, and which entries are samples."""

    rewards: np.ndarray
    """(learners, R streams, S slots)."""
    values: np.ndarray
    """The critic's values, as ``rewards``."""
    valid: np.ndarray
    """Where a stream has a sample (a group empty in a slot has none), as ``rewards``."""
    pick: tuple[np.ndarray, np.ndarray]
    """(stream, slot) of every sample, in the order the actors acted."""
    last_values: np.ndarray | None = None
    """The critic's value of each stream's state after the last slot (learners, R), which
    GAE bootstraps from; None: the episode's end counts as terminal."""


def own_terms(reward: RewardParams, out: EpisodeOutcome) -> np.ndarray:
    """Each UE's own terms of (17a), the slot reward's share times N, (S, N)."""
    return reward.own(out.qos, out.delay_s, out.own_energy_j)


def ue_streams(mode: str, reward: RewardParams, decision: Decision, out: EpisodeOutcome,
               final: Decision | None = None) -> Streams:
    """The UE actors' streams: the team reward (paper) or each UE's own terms (default).

    ``final``: the actors' decision (with values) on the state after the last slot.
    """
    assert decision.ue.values is not None
    s_count, n = out.states.phi.shape
    if mode == "paper":
        # N learners, one reward stream each, their samples the slots.
        values = decision.ue.values.cpu().numpy()[:, None, :]                      # (N, 1, S)
        rewards = np.broadcast_to(out.reward, (n, 1, s_count)).copy()
        pick = (np.zeros(s_count, dtype=int), np.arange(s_count))
        shape = (n, 1)
    else:
        # One shared learner, N reward streams; samples ordered UE-major as acted.
        values = decision.ue.values.cpu().numpy().reshape(1, n, s_count)
        rewards = own_terms(reward, out).T[None]
        pick = (np.repeat(np.arange(n), s_count), np.tile(np.arange(s_count), n))
        shape = (1, n)
    last = None
    if final is not None:
        assert final.ue.values is not None
        last = final.ue.values.cpu().numpy().reshape(shape)   # one slot: UE-major is (1, N)
    return Streams(rewards, values, np.ones_like(rewards, dtype=bool), pick, last)


def group_streams(reward: RewardParams, decision: Decision, out: EpisodeOutcome,
                  final: Decision | None = None) -> Streams:
    """The group actor's streams: a group's terms per member, dense over (group, slot) so
    that GAE follows a group through the episode; a group empty in a slot is no sample
    and does not move the reward statistics (nor is it bootstrapped after the last)."""
    assert decision.rows is not None and decision.group is not None
    assert decision.group.values is not None
    rows = decision.rows
    s_count = out.states.phi.shape[0]
    m = out.common_energy_j.shape[1]
    group_total = np.zeros((s_count, m))
    np.add.at(group_total, (np.arange(s_count)[:, None], out.states.group),
              own_terms(reward, out))
    group_total -= reward.energy_term(out.common_energy_j)
    where = (rows.group, rows.slot)
    valid = np.zeros((1, m, s_count), dtype=bool)
    valid[0][where] = True
    rewards = np.zeros((1, m, s_count))
    rewards[0][where] = group_total[rows.slot, rows.group] / rows.members
    values = np.zeros((1, m, s_count))
    values[0][where] = decision.group.values.cpu().numpy()[0]
    last = None
    if final is not None:
        assert final.rows is not None and final.group is not None
        assert final.group.values is not None
        last = np.zeros((1, m))
        last[0][final.rows.group] = final.group.values.cpu().numpy()[0]
    return Streams(rewards, values, valid, where, last)
