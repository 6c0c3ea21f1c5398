"""Parameter sweeps on Dask: every grid cell and seed is one independent simulation.

A sweep takes a base scenario, a grid (``{"section.key": [v1, v2, ...]}``) and a
number of seeds, and runs the Cartesian product on a Dask cluster. A cell is
exactly what ``hybridnet run SCENARIO --set KEY=VALUE ... --seed S`` would
simulate: the grid values are applied to the base scenario first and "auto"
references are resolved per cell afterwards; its row holds the same metrics
(:mod:`hybridnet.metrics`) as that run's summary.json. A cell of the HID
controller (``--policy hid``, or a checkpoint file) trains it first, or finds
it cached for the cell's scenario, and adds the paper's converged measure to
its row (:data:`~hybridnet.sweep.cell.TRAINING_METRICS`): the mean training
reward over the last 40 % of the episodes (300-499 of 500) beside the
evaluation reward.

The output directory is the unit of resumption:

- ``sweep.toml`` records the settings, the grid swept so far and the base
  scenario (defaults filled in);
- ``results.csv`` gets one row per cell and seed, appended (and fsynced) the
  moment the cell finishes, so an interrupted sweep loses only the cells in
  flight, and a rerun of the same command skips every cell already done;
- ``.hybridnet`` marks it as a sweep hybridnet wrote: a sweep never writes into
  a directory of the user's, and ``--force`` resets only one of its own.

A cell that fails is recorded with its error and retried by the next rerun,
whose row then replaces the failure row: results.csv holds at most one row per
cell. The other cells carry on. Grid values, the policy and its checkpoint are
validated before anything is written or submitted, so a typo costs nothing.

- :mod:`~hybridnet.sweep.grid`: ``--grid`` texts, the cells and their keys;
- :mod:`~hybridnet.sweep.cell`: the policy check and the Dask task of one cell;
- :mod:`~hybridnet.sweep.files`: results.csv and sweep.toml, their layout and reading;
- :mod:`~hybridnet.sweep.plan`: what a sweep runs against what its directory holds;
- :mod:`~hybridnet.sweep.run`: the Dask client, the directory prepared, the rows appended.
"""

from hybridnet.metrics import METRICS
from hybridnet.sweep.cell import (
    TRAINING_METRICS,
    check_policy,
    converged_metrics,
    run_cell,
    trains_hid,
)
from hybridnet.sweep.files import (
    KIND,
    RESULTS,
    SETTINGS,
    read_results,
    result_columns,
)
from hybridnet.sweep.grid import GRID_HELP, Cell, expand_grid, parse_grid, value_text
from hybridnet.sweep.plan import SweepPlan, plan_sweep, settings_toml, settle_plan
from hybridnet.sweep.run import (
    CONNECT_TIMEOUT_S,
    SweepReport,
    check_scheduler,
    dask_client,
    run_sweep,
)

__all__ = [
    "CONNECT_TIMEOUT_S", "GRID_HELP", "KIND", "METRICS", "RESULTS", "SETTINGS",
    "TRAINING_METRICS", "Cell", "SweepPlan", "SweepReport", "check_policy", "check_scheduler",
    "converged_metrics", "dask_client", "expand_grid", "parse_grid", "plan_sweep",
    "read_results", "result_columns", "run_cell", "run_sweep", "settings_toml", "settle_plan",
    "trains_hid", "value_text",
]
