"""Scenario files: defaults, overrides, round trips and one test per kind of bad input."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hybridnet.errors import HybridnetError
from hybridnet.model.reference import resolve_references
from hybridnet.scenario import (
    Scenario,
    from_dict,
    parse_overrides,
    read_scenario,
    to_toml,
)
from hybridnet.scenario_reference import render

ROOT = Path(__file__).resolve().parents[1]


def test_paper_scenario_is_table_one():
    s = read_scenario(ROOT / "scenarios" / "paper.toml")
    assert (s.network.num_ues, s.network.num_groups) == (50, 2)
    assert (s.steps.x_max, s.steps.y_min, s.steps.y_max, s.steps.total) == (13, 0, 16, 28)
    assert (s.edge.cycles_per_step, s.ue.cycles_per_step) == (15e6, 14e6)
    assert (s.edge.freq_hz, s.ue.freq_min_hz, s.ue.freq_max_hz) == (2e9, 1.4e9, 1.6e9)
    assert s.edge.kappa == s.ue.kappa == 1e-27
    assert (s.latent.height, s.latent.width, s.latent.channels, s.latent.bits_per_value) == (
        128, 128, 16, 16)
    assert (s.train.learning_rate, s.train.batch_size, s.train.hidden) == (5e-4, 128,
                                                                           (128, 128, 128))
    assert (s.edge.scheduler, s.channel.downlink, s.sim.arrivals) == (
        "dedicated", "dedicated", "synchronous")
    assert s.sim.early_handoff is False


@pytest.mark.parametrize("name", ["paper", "dense", "small"])
def test_shipped_scenarios_round_trip(tmp_path, name):
    s = read_scenario(ROOT / "scenarios" / f"{name}.toml")
    path = tmp_path / "resolved.toml"
    path.write_text(to_toml(s))
    again = read_scenario(path)
    assert again.replace(source=s.source) == s


def test_overrides_are_typed_by_the_schema(tmp_path):
    overrides = parse_overrides(["reward.weights=[0.2,0.4,0.4]", "edge.freq_hz=1e9",
                                 "edge.scheduler=fcfs", "network.num_ues=7",
                                 "sim.early_handoff=true"])
    s = read_scenario(ROOT / "scenarios" / "paper.toml", overrides)
    assert s.reward.weights == (0.2, 0.4, 0.4)
    assert s.edge.freq_hz == 1e9 and s.edge.scheduler == "fcfs"
    assert s.network.num_ues == 7 and s.sim.early_handoff is True


@pytest.mark.parametrize("value", [10.0, 1e7])
def test_a_float_is_refused_for_an_int_key(value):
    """Issue 24 B20: `--set sim.slots=1e7` was taken as a count; a count is an integer."""
    with pytest.raises(HybridnetError, match="is a float; expected an integer"):
        from_dict({"network": {"num_ues": value}})


def _error(raw=None, text=None, tmp_path=None, overrides=None) -> str:
    with pytest.raises(HybridnetError) as info:
        if text is not None:
            path = tmp_path / "bad.toml"
            path.write_text(text)
            read_scenario(path, overrides)
        else:
            from_dict(raw, "bad.toml")
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path):
    with pytest.raises(HybridnetError, match="no such scenario file"):
        read_scenario(tmp_path / "nope.toml")


def test_toml_syntax_error(tmp_path):
    assert "invalid TOML" in _error(text="[network\nnum_ues = 3", tmp_path=tmp_path)


def test_unknown_key_names_allowed_keys():
    msg = _error({"edge": {"frequency": 1e9}})
    assert "frequency" in msg and "freq_hz" in msg


def test_unknown_section():
    assert "unknown section [egde]" in _error({"egde": {}})


def test_wrong_type():
    msg = _error({"network": {"num_ues": "many"}})
    assert "num_ues" in msg and "an integer" in msg


def test_out_of_range():
    msg = _error({"edge": {"freq_hz": -5.0}})
    assert "[edge] freq_hz = -5.0" in msg and "[1e+06, 1e+12]" in msg


def test_bad_choice_lists_choices():
    msg = _error({"edge": {"scheduler": "lifo"}})
    assert '"dedicated", "fcfs", "ps"' in msg


def test_infeasible_step_ranges():
    assert "infeasible step ranges" in _error({"steps": {"y_min": 0, "z_max": 10}})


def test_bad_override_names_the_key(tmp_path):
    msg = _error(text="", tmp_path=tmp_path, overrides={"edge.freq_hz": "fast"})
    assert "freq_hz" in msg and "--set" in msg or "with --set" in msg
    with pytest.raises(HybridnetError, match="section.key=value"):
        parse_overrides(["novalue"])


def test_num_groups_cannot_exceed_ues():
    assert "num_groups" in _error({"network": {"num_ues": 3, "num_groups": 5}})


def test_defaults_are_valid():
    """Every default passes the checks a file's value must pass, and is Table I's where it
    says so: the defaults read back from their own TOML unchanged, and resolve."""
    defaults = Scenario()
    assert from_dict(tomllib.loads(to_toml(defaults)), "defaults") == defaults
    assert (defaults.network.num_ues, defaults.network.num_groups) == (50, 2)
    assert (defaults.steps.total, defaults.edge.freq_hz, defaults.ue.cycles_per_step) == (
        28, 2e9, 14e6)
    resolved = resolve_references(defaults)
    assert all(isinstance(getattr(resolved.reward, name), float)
               for name in ("qos_ref", "delay_ref_s", "energy_ref_j"))


def test_scenario_reference_is_current():
    assert (ROOT / "docs" / "scenarios.md").read_text() == render(), (
        "regenerate: python -m hybridnet.scenario_reference > docs/scenarios.md")


def test_auto_groups_need_real_prompts():
    assert "phi_source" in _error({"network": {"num_groups": "auto"}})
    assert from_dict({"network": {"num_groups": "auto"},
                      "prompts": {"phi_source": "embedding"}}).network.num_groups == "auto"
