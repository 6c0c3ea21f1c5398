"""``hybridnet hiqm``: fit the quality model (eq. 12) on measured data and look at it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from hybridnet.hiqm_fit import binned_means, fit_hiqm, plot_hiqm, read_clip_scores, save_fit_json
from hybridnet.model.hiqm import QOS_MODELS, PaperHIQM, load_qos_model, load_shipped_fit

_PATH = click.Path(path_type=Path, dir_okay=False)


@click.group()
def hiqm() -> None:
    """The HIQM quality model: fit it on CLIP scores, print and plot it."""


@hiqm.command()
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
        save_fit_json(result, out, overwrite=force)
        click.echo(f"wrote {out}")
    if plot_path is not None:
        plot_hiqm(binned_means(read_clip_scores(data)), result.model, plot_path,
                  model_label="fitted surface", paper_curves=True, overwrite=force)
        click.echo(f"wrote {plot_path}")


@hiqm.command()
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
    plot_hiqm(binned_means(frame), load_qos_model(model_name), out,
              model_label=f"{model_name} model", paper_curves=model_name == "fitted",
              overwrite=force)
    click.echo(f"wrote {out}")
