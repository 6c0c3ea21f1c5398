"""hybridnet: a discrete-event simulator of mobile-edge AIGC networks.

It implements the hybrid inference scheme for diffusion models of Zhuang et
al. (IEEE ICC 2025): grouped common denoising on an edge server, personalized
phases on the server and on each user's device, and a controller that picks
every user's step split each slot.

The public API is imported lazily so that ``import hybridnet.model`` (used by
the CLI and by workers) does not pull in SimPy, torch or the embedding model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hybridnet.api import load_scenario, simulate
    from hybridnet.collect import load_runs

__all__ = ["gym_env", "load_runs", "load_scenario", "simulate", "parallel_env"]


def parallel_env(scenario: Any, **overrides: Any) -> Any:
    """A PettingZoo ``ParallelEnv`` of the scenario (see :mod:`hybridnet.rl.pettingzoo_env`)."""
    from hybridnet.rl.pettingzoo_env import parallel_env as make_env

    return make_env(scenario, **overrides)


def gym_env(scenario: Any, **overrides: Any) -> Any:
    """A single-agent Gymnasium env of the scenario (see :mod:`hybridnet.rl.gym_env`)."""
    from hybridnet.rl.gym_env import gym_env as make_env

    return make_env(scenario, **overrides)


def __getattr__(name: str) -> Any:
    if name in ("load_scenario", "simulate"):
        from hybridnet import api

        return getattr(api, name)
    if name == "load_runs":
        from hybridnet.collect import load_runs

        return load_runs
    raise AttributeError(f"module 'hybridnet' has no attribute {name!r}")
