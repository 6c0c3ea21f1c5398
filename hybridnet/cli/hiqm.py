"""``hybridnet hiqm``: fit the quality model (eq. 12) on measured data and look at it."""

from __future__ import annotations

import json
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

import click
import pandas as pd

from hybridnet.errors import HybridnetError
from hybridnet.model.hiqm import (
    FIT_FORMAT,
    HiqmFit,
    PaperHIQM,
    QosModel,
    load_qos_model,
    load_shipped_fit,
)
from hybridnet.model.hiqm_fit import binned_means, fit_hiqm, read_clip_scores
from hybridnet.outputs import Claim, claimed, figure_signature, has_signature
from hybridnet.plots import plot_hiqm
from hybridnet.registry import QOS_MODELS

_PATH = click.Path(path_type=Path, dir_okay=False)
_FIGURE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "tif", "tiff", "webp", "eps", "ps")


_FIT_SIGNATURE = has_signature(FIT_FORMAT.encode())


def _claim(stack: ExitStack, path: Path, kind: str, force: bool) -> Claim:
    """Claim and check ``path`` before the fit or the figure is computed: a refusal costs
    nothing (a fit takes seconds)."""
    if kind == "figure" and path.suffix.lstrip(".").lower() not in _FIGURE_FORMATS:
        raise HybridnetError(f"{path}: cannot write a plot as '{path.suffix}'; use e.g. .png, "
                             ".pdf, .svg")
    held = stack.enter_context(claimed(path, kind=kind, force=force))
    held.check_replaceable(directory=False,
                           signature=figure_signature if kind == "figure" else _FIT_SIGNATURE)
    return held


def _save_fit_json(fit: HiqmFit, held: Claim) -> None:
    """Write ``fit`` in the layout of the shipped ``hybridnet/data/hiqm_fitted.json``."""
    text = json.dumps(fit.to_dict(), indent=2) + "\n"
    held.write_file(lambda tmp: tmp.write_text(text, encoding="utf-8"), _FIT_SIGNATURE)


def _draw(binned: pd.DataFrame, model: QosModel, held: Claim, *, model_label: str,
          paper_curves: bool) -> None:
    """Draw the Fig. 3-style plot into the claimed path; the suffix picks the format."""
    held.write_file(lambda tmp: plot_hiqm(binned, model, tmp, model_label=model_label,
                                          paper_curves=paper_curves), figure_signature)


@click.group(short_help="The HIQM quality model: fit, print, plot.")
def hiqm() -> None:
    """The HIQM quality model: fit it on CLIP scores, print and plot it."""


@hiqm.command(short_help="Refit the HIQM surface on measured CLIP scores.")
@click.argument("data", type=_PATH)
@click.option("--out", type=_PATH, help="Write the fit as JSON (the shipped fit's layout).")
@click.option("--plot", "plot_path", type=_PATH, help="Draw the Fig. 3-style plot (e.g. fit.png).")
@click.option("--source", help="Provenance line stored in the JSON [default: the CSV's name].")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
def fit(data: Path, out: Path | None, plot_path: Path | None, source: str | None,
        force: bool) -> None:
    """Refit the HIQM surface on DATA.csv and report in-sample and held-out error."""
    with ExitStack() as stack:
        held_out = _claim(stack, out, "hiqm fit", force) if out is not None else None
        held_plot = _claim(stack, plot_path, "figure", force) if plot_path is not None else None
        result = fit_hiqm(data, source)
        click.echo(result.describe())
        if held_out is not None:
            _save_fit_json(result, held_out)
            click.echo(f"wrote {out}")
        if held_plot is not None:
            _draw(binned_means(read_clip_scores(data)), result.model, held_plot,
                  model_label="fitted surface", paper_curves=True)
            click.echo(f"wrote {plot_path}")


@hiqm.command(short_help="Print a QoS model and plot it against the data.")
@click.option("--model", "model_name", type=click.Choice(QOS_MODELS), default="fitted",
              show_default=True, help="Which QoS model to show.")
@click.option("--data", type=_PATH, help="CLIP-score CSV for the dots [default: shipped data].")
@click.option("--out", type=_PATH, default=Path("hiqm.png"), show_default=True,
              help="Where to draw the plot.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def show(model_name: str, data: Path | None, out: Path, force: bool) -> None:
    """Print a QoS model's coefficients and plot it against the measured data."""
    with ExitStack() as stack:
        held = _claim(stack, out, "figure", force)
        _show(model_name, data, held)
    click.echo(f"wrote {out}")


def _show(model_name: str, data: Path | None, held: Claim) -> None:
    click.echo(load_shipped_fit().describe() if model_name == "fitted" else PaperHIQM().describe())
    if data is None:
        shipped = resources.files("hybridnet") / "data" / "semct_clip_scores.csv"
        with resources.as_file(shipped) as csv:
            frame = read_clip_scores(csv)
    else:
        frame = read_clip_scores(data)
    _draw(binned_means(frame), load_qos_model(model_name), held,
          model_label=f"{model_name} model", paper_curves=model_name == "fitted")
