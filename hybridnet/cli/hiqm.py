"""``hybridnet hiqm``: fit the quality model (eq. 12) on measured data and look at it."""

from __future__ import annotations

import json
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
from hybridnet.outputs import figure_signature, has_signature, write_output
from hybridnet.plots import plot_hiqm
from hybridnet.registry import QOS_MODELS

_PATH = click.Path(path_type=Path, dir_okay=False)
_FIGURE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "tif", "tiff", "webp", "eps", "ps")


def _save_fit_json(fit: HiqmFit, path: Path, force: bool) -> None:
    """Write ``fit`` in the layout of the shipped ``hybridnet/data/hiqm_fitted.json``."""
    text = json.dumps(fit.to_dict(), indent=2) + "\n"
    write_output(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), kind="hiqm fit",
                 force=force, signature=has_signature(FIT_FORMAT.encode()))


def _draw(binned: pd.DataFrame, model: QosModel, path: Path, *, model_label: str,
          paper_curves: bool, force: bool) -> None:
    """Claim ``path``, draw the Fig. 3-style plot into it; the suffix picks the format."""
    if path.suffix.lstrip(".").lower() not in _FIGURE_FORMATS:
        raise HybridnetError(f"{path}: cannot write a plot as '{path.suffix}'; use e.g. .png, "
                             ".pdf, .svg")
    write_output(path, lambda tmp: plot_hiqm(binned, model, tmp, model_label=model_label,
                                             paper_curves=paper_curves),
                 kind="figure", force=force, signature=figure_signature)


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
    result = fit_hiqm(data, source)
    click.echo(result.describe())
    if out is not None:
        _save_fit_json(result, out, force)
        click.echo(f"wrote {out}")
    if plot_path is not None:
        _draw(binned_means(read_clip_scores(data)), result.model, plot_path,
              model_label="fitted surface", paper_curves=True, force=force)
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
    click.echo(load_shipped_fit().describe() if model_name == "fitted" else PaperHIQM().describe())
    if data is None:
        shipped = resources.files("hybridnet") / "data" / "semct_clip_scores.csv"
        with resources.as_file(shipped) as csv:
            frame = read_clip_scores(csv)
    else:
        frame = read_clip_scores(data)
    _draw(binned_means(frame), load_qos_model(model_name), out,
          model_label=f"{model_name} model", paper_curves=model_name == "fitted", force=force)
    click.echo(f"wrote {out}")
