"""Beyond the paper: what the closed form cannot show, measured in the DES.

Three studies, each a sweep on Dask (embedded local cluster) under the exact
oracle controller, which decides on the closed-form model and is therefore
blind to queues, like the paper's controller:

- ``es_capacity``: per-request delay and waiting vs the number of ES compute
  units, FCFS vs processor sharing, in the busy cell of scenarios/dense.toml
  as it was before its redesign (Table I's UE CPUs, a 100 MHz band);
- ``early_handoff``: the reward, delay and energy gained by starting phase I
  at common step x_n instead of after x_m^max (paper.toml, three weightings,
  both quality models);
- ``downlink``: a shared 20 MHz band vs a dedicated 1 MHz per UE, as N grows.

Run:  python -m experiments.beyond_paper [STUDY ...] [--seeds 3] [--workers 2]
Each study writes experiments/results/<study>/results.csv (+ sweep.toml) and a
PNG next to it; rerunning skips finished cells.
"""

from __future__ import annotations

import argparse

from experiments.common import RESULTS, ROOT
from hybridnet.api import load_scenario
from hybridnet.plots import plot_sweep
from hybridnet.sweep import plan_sweep, read_results, run_sweep

COMMAND = "python -m experiments.beyond_paper {study} --seeds 3 --workers 2"
"""What produced each study's checked-in results (``{study}``: its name)."""

STUDIES = {
    "es_capacity": {
        "scenario": "dense.toml",
        "grid": {"edge.scheduler": ["fcfs", "ps"], "edge.compute_units": [1, 2, 4, 8]},
        # dense.toml before it was redesigned for queue-aware control: Table I's UE
        # CPUs redrawn every slot and a 100 MHz band, the cell these results were run in
        "overrides": {"ue.freq_min_hz": 1.4e9, "ue.freq_max_hz": 1.6e9,
                      "ue.freq_redraw": "slot", "channel.shared_bandwidth_hz": 100e6},
        "plots": [("edge.compute_units", "delay_per_ue_s", "edge.scheduler"),
                  ("edge.compute_units", "t_wait_s", "edge.scheduler")],
        "slots": 15,
    },
    "early_handoff": {
        "scenario": "paper.toml",
        "grid": {"sim.early_handoff": [False, True], "qos.model": ["fitted", "paper"],
                 "reward.weights": [[0.2, 0.4, 0.4], [0.6, 0.2, 0.2], [0.8, 0.1, 0.1]]},
        "plots": [("reward.weights", "reward", "sim.early_handoff"),
                  ("reward.weights", "delay_per_ue_s", "sim.early_handoff")],
        "slots": 20,
    },
    "downlink": {
        "scenario": "paper.toml",
        "grid": {"channel.downlink": ["dedicated", "shared"],
                 "network.num_ues": [10, 20, 50, 100, 200]},
        "overrides": {"channel.shared_bandwidth_hz": 20e6},
        "plots": [("network.num_ues", "delay_per_ue_s", "channel.downlink"),
                  ("network.num_ues", "reward", "channel.downlink")],
        "slots": 10,
    },
}


def run_study(name: str, seeds: int, workers: int) -> None:
    """Run (or resume) the study's sweep into experiments/results/<name>."""
    study = STUDIES[name]
    scenario = load_scenario(ROOT / "scenarios" / study["scenario"],
                             {"sim.slots": study["slots"], **study.get("overrides", {})})
    plan = plan_sweep(scenario, study["grid"], RESULTS / name, policy="oracle", engine="des",
                      seeds=range(seeds))
    report = run_sweep(plan, workers=workers)
    print(f"{name}: {report}")


def plot_study(name: str) -> None:
    """The study's PNGs from its results.csv, and its means per cell on stdout."""
    study = STUDIES[name]
    out = RESULTS / name
    frame = read_results(out)
    for x, y, hue in study["plots"]:
        png = out / f"{y}_vs_{x.split('.')[-1]}.png"
        png.unlink(missing_ok=True)
        plot_sweep(frame, x, y, png, hue=hue)
    keys = list(study["grid"])
    table = frame.groupby(keys)[["reward", "delay_per_ue_s", "t_wait_s", "energy_per_ue_j",
                                 "qos_per_ue"]].mean()
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("studies", nargs="*", metavar="STUDY",
                        help=f"any of {', '.join(STUDIES)} (default: all)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    unknown = set(args.studies) - set(STUDIES)
    if unknown:
        parser.error(f"unknown study {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(STUDIES)}")
    for name in args.studies or STUDIES:
        run_study(name, args.seeds, args.workers)
        plot_study(name)


if __name__ == "__main__":
    main()
