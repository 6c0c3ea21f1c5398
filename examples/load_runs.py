"""Many run directories in one DataFrame: ``hybridnet.load_runs``.

    python examples/load_runs.py runs/            # every run directory under runs/
    python examples/load_runs.py                  # makes a few runs first, then loads them

Each run directory's summary.json becomes one row (the policy, seed, engine,
slots and every metric); ``table="slots"`` (or ues, events, groups, queues)
stacks that CSV of every run instead, each row tagged with its run.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import hybridnet

HERE = Path(__file__).resolve().parent


def make_runs(root: Path) -> None:
    """Two policies x two seeds of the example scenario, written by `hybridnet run`."""
    for policy in ("fluid", "random"):
        for seed in (0, 1):
            subprocess.run([sys.executable, "-m", "hybridnet", "run",
                            str(HERE / "my_scenario.toml"), "--policy", policy, "--seed",
                            str(seed), "--slots", "3", "--no-plot",
                            "--out", str(root / f"{policy}-{seed}")],
                           check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    if len(sys.argv) > 1:
        root = Path(sys.argv[1])
    else:
        root = Path(tempfile.mkdtemp(prefix="hybridnet-runs-"))
        make_runs(root)
    runs = hybridnet.load_runs(root)
    print(runs[["policy", "seed", "reward", "qos_per_ue", "delay_per_ue_s"]].to_string())
    print(runs.groupby("policy")[["reward", "delay_per_ue_s"]].mean().to_string())
    slots = hybridnet.load_runs(root, table="slots")
    print(f"{len(slots)} slots from {slots['run'].nunique()} runs")


if __name__ == "__main__":
    main()
