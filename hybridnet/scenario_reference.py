"""Render the scenario reference (docs/scenarios.md) from the schema itself.

The reference is generated, never hand-edited, so it cannot drift from what
the validator accepts; a test checks the checked-in file is current. A key
that names an implementation lists each name with its line from
:mod:`hybridnet.registry`, the same names the CLI offers.
Regenerate with ``python -m hybridnet.scenario_reference > docs/scenarios.md``.
:func:`annotated_toml` gives one scenario the same notes, key by key.
"""

from __future__ import annotations

import dataclasses
import textwrap

from hybridnet.scenario import SECTIONS, Scenario, allowed_values, to_toml

INTRO = """\
# Scenario reference

A scenario is a TOML file with one table per concern. Every key is optional:
a missing key takes the default below. Unknown keys, wrong types and values
outside the allowed range are errors that name the file, the key and what is
allowed. Any key can be overridden on the command line with
`--set section.key=value` (the value is read as TOML: `--set
reward.weights=[0.2,0.4,0.4]`, `--set edge.freq_hz=1e9`; a bare word is a
string: `--set edge.scheduler=fcfs`).

*Source* says where a default comes from: **paper** is Table I of Zhuang et
al. (IEEE ICC 2025) or its text; **assumption** is ours, because the paper does
not give it. The channel defaults follow the 3GPP macro-cell path loss
`128.1 + 37.6 log10(d_km)` dB with d ~ U[50, 300] m, a -174 dBm/Hz noise PSD
plus a 9 dB UE noise figure, b_n = 1 MHz, p_n = 0.5 W and tau = 4.

## Reward normalisation

Eq. (17a) adds a QoS (a CLIP score, about 0.3 per UE), a delay (seconds) and an
energy (joules); the weights only mean something once each term is divided by
a reference. hybridnet divides each total by N times the value of one typical
UE under the all-on-UE (`local`) decision: the mid-range f^UE, the downlink
delay averaged over the distance range, phi = 0.5. `local` then scores about
w1 - w2 - w3 per slot. The references are resolved from `"auto"` to numbers
in every written `config.toml`, so a rerun uses exactly the same ones; set
them explicitly to compare runs across scenarios.

## Slots that overrun

Requests are issued at every slot start whether or not the previous slot's
work is done; unfinished work keeps its resources and new work queues behind
it (visible as `t_wait_s`). In the paper's configuration a slot's work takes
about 0.3 s, well inside the default 1 s slot.
"""


def render() -> str:
    """The whole reference as Markdown."""
    parts = [INTRO]
    for section, cls in SECTIONS.items():
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        parts.append(f"\n## [{section}]\n\n{doc}\n")
        parts.append("| key | default | allowed | source | meaning |")
        parts.append("|---|---|---|---|---|")
        for f in dataclasses.fields(cls):
            default = f.default
            if isinstance(default, tuple):
                default = list(default)
            if isinstance(default, str):
                shown = f'"{default}"'
            elif isinstance(default, bool):
                shown = str(default).lower()
            elif isinstance(default, float):
                shown = f"{default:g}"
            else:
                shown = repr(default)
            parts.append(f"| `{f.name}` | `{shown}` | {allowed_values(f)} | {f.metadata['source']} "
                         f"| {f.metadata['doc']} |")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(render(), end="")


def annotated_toml(scenario: Scenario, width: int = 80) -> str:
    """:func:`~hybridnet.scenario.to_toml` with each key's doc (its unit) and source above it.

    What ``hybridnet scenario show`` prints: still TOML (the notes are comments),
    so it can be saved and read back as a scenario.
    """
    docs = {section: {f.name: f.metadata for f in dataclasses.fields(cls)}
            for section, cls in SECTIONS.items()}
    out = []
    section = ""
    for line in to_toml(scenario).splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
        name = stripped.split(" = ", 1)[0] if " = " in stripped else ""
        meta = docs.get(section, {}).get(name)
        if meta is not None:
            note = f"{meta['doc']} [{meta['source']}]"
            out += textwrap.wrap(note, width, initial_indent="# ", subsequent_indent="#   ")
        out.append(line)
    return "\n".join(out) + "\n"
