"""``hybridnet prompts``: eq. (10) similarities and scheme groupings of a prompt file.

Thin: it reads the prompts, calls :mod:`hybridnet.prompts` and writes a CSV
to stdout or to ``--out``, claimed and checked before any work
(:func:`hybridnet.outputs.claimed`; temporary sibling, then rename; an existing
file only with ``--force``, and only one hybridnet recorded writing).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import numpy as np

from hybridnet.cli.common import force_option
from hybridnet.errors import HybridnetError
from hybridnet.outputs import claimed, starts_with
from hybridnet.prompts import group_prompts
from hybridnet.prompts.corpus import CORPORA, resolve_corpus
from hybridnet.prompts.embeddings import similarity_matrix
from hybridnet.registry import HIS_AGENTS, PROMPT_SCHEMES

_PROMPTS_HELP = f"PROMPTS is a CSV file with a 'text' column, a text file with one prompt per " \
    f"line, or a shipped corpus: {', '.join(CORPORA)}."


_SIGNATURE = starts_with("prompt,")


@contextmanager
def _output(out: Path | None, force: bool) -> Iterator[Callable[[str], None]]:
    """Where the CSV goes: stdout, or ``out`` claimed and checked before any work."""
    if out is None:
        yield lambda text: click.echo(text, nl=False)
        return
    with claimed(out, kind="prompts csv", force=force) as held:
        held.check_replaceable(directory=False, signature=_SIGNATURE)
        yield lambda text: held.write_file(
            lambda tmp: tmp.write_text(text, encoding="utf-8"), _SIGNATURE)


def _num_groups(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise HybridnetError(
            f"--groups must be a positive integer or 'auto', not {value!r}"
        ) from None


@click.group(name="prompts", short_help="Prompt similarity and grouping under the schemes.")
def prompts() -> None:
    """Prompt similarity (eq. 10) and grouping under the schemes his, ppgfis, gfis, iis."""


@prompts.command(epilog=_PROMPTS_HELP, short_help="Eq. (10) similarity matrix as CSV.")
@click.argument("source", metavar="PROMPTS")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV file to write (default: stdout).")
@force_option
def similarity(source: str, out: Path | None, force: bool) -> None:
    """Write the eq. (10) similarity of every pair of prompts as a CSV matrix."""
    with _output(out, force) as write:
        texts = resolve_corpus(source)
        matrix = similarity_matrix(texts)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["prompt", *range(len(texts))])
        for i, row in enumerate(matrix):
            writer.writerow([i, *(f"{v:.6f}" for v in row)])
        write(buf.getvalue())


@prompts.command(epilog=_PROMPTS_HELP, short_help="Groups, public prompts and phi as CSV.")
@click.argument("source", metavar="PROMPTS")
@click.option("--groups", "groups", required=True, metavar="M",
              help="Number of groups M, or 'auto' (ignored by gfis and iis).")
@click.option("--scheme", type=click.Choice(PROMPT_SCHEMES), default="his", show_default=True,
              help="Prompt scheme.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0, show_default=True,
              help="Seed of the grouping and of random public prompts.")
@click.option("--agent", type=click.Choice(HIS_AGENTS), default="offline", show_default=True,
              help="HIS agent: offline, or an OpenAI-compatible chat endpoint.")
@click.option("--openai-base-url", default="", help="Base URL of the endpoint (agent openai).")
@click.option("--openai-model", default="", help="Model name at the endpoint (agent openai).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV file to write (default: stdout).")
@force_option
def group(
    source: str, groups: str, scheme: str, seed: int, agent: str, openai_base_url: str,
    openai_model: str, out: Path | None, force: bool,
) -> None:
    """Group prompts under a scheme; write prompt, text, group, public_prompt, phi as CSV."""
    num_groups = _num_groups(groups)
    with _output(out, force) as write:
        texts = resolve_corpus(source)
        result = group_prompts(
            scheme, texts, num_groups, np.random.default_rng(seed),
            agent=agent, openai_base_url=openai_base_url, openai_model=openai_model,
        )
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["prompt", "text", "group", "public_prompt", "phi"])
        for i, text in enumerate(texts):
            g = int(result.group[i])
            public = result.public[g] if result.public is not None else ""
            writer.writerow([i, text, g, public, f"{result.phi[i]:.6f}"])
        write(buf.getvalue())
