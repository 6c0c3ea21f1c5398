"""Render the CLI reference (docs/cli.md) from the click commands themselves.

Like the scenario reference it is generated, so it always says what ``--help``
says; a test checks the checked-in file is current. Regenerate with
``python -m hybridnet.cli.reference > docs/cli.md``.
"""

from __future__ import annotations

import click

from hybridnet.cli import cli


def _help_pages(command: click.Command, ctx: click.Context) -> list[tuple[str, str]]:
    """(full name, help text) of ``command`` and of every subcommand below it."""
    pages = [(ctx.command_path, command.get_help(ctx))]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            with click.Context(sub, info_name=name, parent=ctx) as sub_ctx:
                pages.extend(_help_pages(sub, sub_ctx))
    return pages


def render() -> str:
    """Every command's ``--help``, in one Markdown page."""
    parts = ["# CLI reference", "",
             "Generated from the commands' own help "
             "(`python -m hybridnet.cli.reference > docs/cli.md`).", ""]
    with click.Context(cli, info_name="hybridnet", terminal_width=100,
                       max_content_width=100, **cli.context_settings) as ctx:
        for name, text in _help_pages(cli, ctx):
            parts += [f"## `{name}`", "", "```text", text, "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
