"""Render the CLI reference (docs/cli.md) from the click commands themselves.

Like the scenario reference it is generated, so it always says what ``--help``
says; a test checks the checked-in file is current. Regenerate with
``python -m hybridnet.cli.reference > docs/cli.md``.
"""

from __future__ import annotations

import click

from hybridnet.cli import _register, cli


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            out.extend(_walk(command.commands[name], [*path, name]))
    return out


def render() -> str:
    """Every command's ``--help``, in one Markdown page."""
    _register()
    parts = ["# CLI reference", "",
             "Generated from the commands' own help "
             "(`python -m hybridnet.cli.reference > docs/cli.md`).", ""]
    for path, command in _walk(cli, ["hybridnet"]):
        name = " ".join(path)
        with click.Context(command, info_name=name, terminal_width=100,
                           max_content_width=100) as ctx:
            text = command.get_help(ctx)
        parts += [f"## `{name}`", "", "```text", text, "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
