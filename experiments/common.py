"""What the experiment scripts share: their command-line options and how a figure is saved.

Run as scripts (``python experiments/NAME.py``), they import this module by
its bare name from their own folder.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch
from matplotlib.figure import Figure

from hybridnet.api import load_scenario
from hybridnet.rl.train import Trainer
from hybridnet.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "experiments" / "results"


def evaluation_parser(doc: str, results: str, *, jobs: bool = True,
                      episodes: int | None = None) -> argparse.ArgumentParser:
    """Options of an experiment that trains controllers and evaluates them on fresh slots.

    ``doc`` is the script's docstring (its first paragraph describes the script);
    ``results`` is the default ``--out``, relative to experiments/results.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "paper.toml"))
    parser.add_argument("--episodes", type=int, default=episodes,
                        help="default: [train] episodes" if episodes is None else None)
    parser.add_argument("--train-seed", type=int, default=0)
    parser.add_argument("--eval-seed", type=int, default=2025)
    parser.add_argument("--eval-slots", type=int, default=100)
    if jobs:
        parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (processes)")
    parser.add_argument("--out", type=Path, default=RESULTS / results)
    return parser


def save_figure(fig: Figure, out: Path) -> None:
    """Lay the figure out, write it and free it (scripts draw many)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def cell_scenario(path: str, values: dict[str, object], policy: str, seed: int,
                  episodes: int | None) -> Scenario:
    """One cell's scenario: ``values``, the training seed, and for ``hid-MODE`` its mode.

    Also holds torch to one thread: cells run one per process, side by side.
    """
    torch.set_num_threads(1)
    values = {**values, "train.seed": seed}
    if policy.startswith("hid-"):
        values["train.mode"] = policy.removeprefix("hid-")
    if episodes is not None:
        values["train.episodes"] = episodes
    return load_scenario(path, values)


def train_timed(scenario: Scenario) -> tuple[Trainer, pd.DataFrame, float]:
    """Train HID for ``scenario``: the trainer, its per-episode log and the seconds it took."""
    start = time.perf_counter()
    trainer = Trainer(scenario)
    history = trainer.train()
    return trainer, history, time.perf_counter() - start
