"""The :class:`Scenario`: every table validated, alone and together, and its nested-dict form.

Everything that builds a scenario goes through :func:`from_dict`: files,
``--set`` overrides, sweeps and checkpoints all validate the same way, and a
bad value is one error naming the source, the key and what it accepts.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from typing import Any

from hybridnet.errors import HybridnetError
from hybridnet.scenario import sections
from hybridnet.scenario.keys import AUTO, allowed_values
from hybridnet.scenario.limits import MAX_STRING
from hybridnet.scenario.sections import SECTIONS


@dataclass(frozen=True)
class Scenario:
    """A fully validated scenario; ``source`` names the file it came from."""

    network: sections.NetworkConfig = field(default_factory=sections.NetworkConfig)
    steps: sections.StepsConfig = field(default_factory=sections.StepsConfig)
    edge: sections.EdgeConfig = field(default_factory=sections.EdgeConfig)
    ue: sections.UEConfig = field(default_factory=sections.UEConfig)
    channel: sections.ChannelConfig = field(default_factory=sections.ChannelConfig)
    latent: sections.LatentConfig = field(default_factory=sections.LatentConfig)
    qos: sections.QosConfig = field(default_factory=sections.QosConfig)
    prompts: sections.PromptsConfig = field(default_factory=sections.PromptsConfig)
    reward: sections.RewardConfig = field(default_factory=sections.RewardConfig)
    train: sections.TrainConfig = field(default_factory=sections.TrainConfig)
    sim: sections.SimConfig = field(default_factory=sections.SimConfig)
    source: str = "defaults"
    origin: str = ""
    """The command that first produced this configuration, carried by a run's config.toml
    (its ``# origin:`` line) so that rerunning it keeps the same header."""
    derived: frozenset[str] = field(default=frozenset(), compare=False)
    """The dotted keys whose values were derived from "auto" (the reward references,
    ``train.episode_slots``): :meth:`with_values` derives them again, so changing the
    QoS model or the steps of a resolved scenario moves its references too."""

    def replace(self, **tables: Any) -> Scenario:
        """A copy with whole sections replaced (``scenario.replace(sim=...)``)."""
        return dataclasses.replace(self, **tables)

    def with_values(self, values: dict[str, Any]) -> Scenario:
        """A copy with ``{"section.key": value}`` applied and validated.

        Keys the scenario :attr:`derived` from "auto" go back to "auto" unless
        ``values`` sets them: resolve the copy again to derive them for it.
        """
        raw = to_dict(self)
        for dotted in self.derived - set(values):
            section, name = dotted.split(".", 1)
            raw[section][name] = AUTO
        for dotted, value in values.items():
            section, name = split_key(self.source, dotted)
            raw.setdefault(section, {})[name] = value
        return from_dict(raw, self.source)


def split_key(source: str, dotted: str) -> tuple[str, str]:
    """``"edge.freq_hz"`` as ``("edge", "freq_hz")``, or an error naming what exists."""
    section, _, name = dotted.partition(".")
    if not name or section not in SECTIONS:
        close = difflib.get_close_matches(section, list(SECTIONS), n=1)
        hint = f"; did you mean '{close[0]}.{name}'?" if close and name else ""
        raise HybridnetError(
            f"{source}: key '{dotted}' must be section.key with section one of "
            f"{', '.join(SECTIONS)}{hint}"
        )
    names = [f.name for f in dataclasses.fields(SECTIONS[section])]
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean '{section}.{close[0]}'? " if close else ""
        raise HybridnetError(
            f"{source}: unknown key '{dotted}'; {hint}[{section}] allows {', '.join(names)}"
        )
    return section, name


def _coerce(source: str, section: str, f: dataclasses.Field, value: Any) -> Any:
    """Check one value against its declaration; return it in its canonical type."""
    m = f.metadata
    where = f"{source}: [{section}] {f.name} = {value!r}"

    def bad() -> HybridnetError:
        return HybridnetError(f"{where} is not allowed; expected {allowed_values(f)}")

    if m["auto"] and value == AUTO:
        return AUTO
    kind = m["kind"]
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad()
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise bad()
        if len(value) > MAX_STRING:
            raise HybridnetError(f"{source}: [{section}] {f.name} is {len(value):,} characters "
                                 f"long; at most {MAX_STRING:,} are allowed")
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
            if not isinstance(item, int):  # 1e7 or 4.0: TOML's floats, refused for a count
                raise HybridnetError(f"{where} is a float; expected an integer written without "
                                     f"a decimal point or exponent ({allowed_values(f)})")
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
    tables: dict[str, Any] = {}
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
        for name, value in table.items():
            if name not in fields:
                raise HybridnetError(
                    f"{source}: unknown key [{section}] {name}; allowed: {', '.join(fields)}"
                )
            values[name] = _coerce(source, section, fields[name], value)
        tables[section] = cls(**values)
    scenario = Scenario(**tables, source=source)
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
