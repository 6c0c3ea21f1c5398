"""Scenario files: TOML in, validated frozen dataclasses out.

A scenario is one table per concern (``[network]``, ``[steps]``, ...). The
schema is the single source of truth: validation, ``--set`` overrides, the
resolved ``config.toml`` and the scenario reference are all derived from the
key declarations, and a key that names an implementation takes its names from
:mod:`hybridnet.registry`. This is the lowest layer of hybridnet (model/, sim/,
prompts/ and rl/ import it), so it imports nothing of theirs.

- :mod:`~hybridnet.scenario.keys`: how a key is declared, and what it accepts in words;
- :mod:`~hybridnet.scenario.sections`: the tables and their keys;
- :mod:`~hybridnet.scenario.core`: :class:`Scenario`, validation, the nested-dict form;
- :mod:`~hybridnet.scenario.files`: reading TOML and ``--set`` overrides, writing TOML.
"""

from hybridnet.scenario.core import Scenario, from_dict, to_dict
from hybridnet.scenario.files import (
    ORIGIN_PREFIX,
    changed_keys,
    parse_overrides,
    parse_value,
    read_scenario,
    to_toml,
    toml_value,
)
from hybridnet.scenario.keys import AUTO, allowed_values
from hybridnet.scenario.sections import (
    SECTIONS,
    ChannelConfig,
    EdgeConfig,
    LatentConfig,
    NetworkConfig,
    PromptsConfig,
    QosConfig,
    RewardConfig,
    SimConfig,
    StepsConfig,
    TrainConfig,
    UEConfig,
)

__all__ = [
    "AUTO", "ORIGIN_PREFIX", "SECTIONS", "ChannelConfig", "EdgeConfig", "LatentConfig",
    "NetworkConfig", "PromptsConfig", "QosConfig", "RewardConfig", "Scenario", "SimConfig",
    "StepsConfig", "TrainConfig", "UEConfig", "allowed_values", "from_dict", "parse_overrides",
    "parse_value", "read_scenario", "to_dict", "to_toml", "changed_keys", "toml_value",
]
