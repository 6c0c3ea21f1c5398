"""Running a sweep: a Dask client, the directory prepared, every cell's row appended as it ends.

The cells run on an embedded ``LocalCluster`` by default, or on any running
cluster by its scheduler address, so the same call scales from a laptop to
many machines. One process writes a sweep directory at a time: :func:`run_sweep`
holds the directory's claim (:mod:`hybridnet.outputs`) from before its first
write to the end of the Dask run.

Dask itself is imported only by the functions that talk to a cluster: it
takes half a second, which every command of the CLI (all of which import this
module) would otherwise pay.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hybridnet.errors import HybridnetError, SystemFailure
from hybridnet.outputs import (
    MARKER,
    Claim,
    claimed,
    record,
    replace_file,
    stale_temporaries,
    write_marker,
)
from hybridnet.scenario import to_toml
from hybridnet.sweep.cell import run_cell
from hybridnet.sweep.files import (
    KIND,
    RESULTS,
    SETTINGS,
    csv_line,
    one_line,
    read_rows,
    result_row,
)
from hybridnet.sweep.plan import SweepPlan, settings_toml, settle_plan

if TYPE_CHECKING:
    from distributed import Client

CONNECT_TIMEOUT_S = 10.0
"""How long to try reaching a ``--scheduler`` before giving up."""


@dataclass(frozen=True)
class SweepReport:
    """What one call of :func:`run_sweep` did."""

    results: Path
    ran: int
    """Rows written: one per cell run."""
    failed: int
    """Of those, the rows of cells that failed (their error in the error column)."""
    skipped: int
    """Cells not run, done before."""

    @property
    def succeeded(self) -> int:
        """Rows written with the cell's metrics."""
        return self.ran - self.failed


def check_scheduler(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Reach the Dask scheduler at ``address`` within ``timeout`` s, or raise one line.

    For the command line, before anything is written: a bare connection (with
    the security of dask's config, as a client's), closed at once. A failed
    ``Client`` would instead print a traceback as it is torn down at exit.
    """
    from distributed.comm import connect
    from distributed.security import Security

    async def probe() -> None:
        comm = await connect(address, timeout=timeout,
                             **Security().get_connection_args("client"))
        await comm.close()

    try:
        asyncio.run(probe())
    except ValueError as err:
        raise HybridnetError(f"--scheduler {address}: not a Dask scheduler address "
                             f"({one_line(err)})") from None
    except (OSError, TimeoutError) as err:
        raise SystemFailure(f"--scheduler {address}: cannot connect ({one_line(err)}); is the "
                            "scheduler running at that address?") from None


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None,
                connect_timeout: float = CONNECT_TIMEOUT_S) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of an embedded local one.

    The embedded cluster runs ``workers`` processes (default: one per CPU) of
    one thread each on 127.0.0.1 with no dashboard, its HTTP port a free one so
    that sweeps side by side do not collide: the simulations are
    CPU-bound Python, so processes, not threads, give the parallelism. Its logs
    are silenced: the user does not manage that cluster, and a failing cell's
    error reaches results.csv (and the command's output) anyway.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=connect_timeout)
        except ValueError as err:
            raise HybridnetError(f"--scheduler {scheduler}: not a Dask scheduler address "
                                 f"({one_line(err)})") from None
        except (OSError, TimeoutError) as err:
            raise SystemFailure(f"--scheduler {scheduler}: cannot connect "
                                f"({one_line(err)})") from None
        with client:
            yield client
        return
    # The scheduler serves HTTP (health, metrics) even without a dashboard, on 8787
    # unless told: a second sweep on the machine would warn on stderr that the port
    # is taken. A free port instead.
    with (LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                       processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                       scheduler_kwargs={"dashboard": False},
                       silence_logs=logging.CRITICAL) as cluster,
          Client(cluster) as client):
        yield client


def _kept_rows(path: Path, plan: SweepPlan) -> list[list[str]]:
    """results.csv's rows that stay as the plan runs: at most one per cell, none of a pending one.

    A pending cell's failure row goes, as the row of its new run takes its place.
    Of the duplicates an older version left, a success wins over failures and
    the latest failure over earlier ones.
    """
    size = len(plan.grid) + 1
    pending = {cell.key for cell in plan.pending}
    kept: dict[tuple[str, ...], list[str]] = {}
    for row in read_rows(path, list(plan.grid), plan.policy):
        key = tuple(row[:size])
        if key not in pending and (key not in kept or kept[key][-1]):
            kept[key] = row
    return list(kept.values())


def _prepare_directory(plan: SweepPlan) -> Path:
    """Write the marker, sweep.toml and results.csv without the rows the run replaces.

    Each step leaves a valid directory should the process die after it: a reset
    drops the old rows before the new settings go in, and results.csv is
    rewritten atomically (a torn last row cut, the pending cells' failure rows
    dropped), so every finished cell is in it exactly once whenever it stops.
    The temporaries of a writer killed mid-rename go too: the claim proves it gone.
    """
    out = plan.out
    out.mkdir(exist_ok=True)
    for stale in (*stale_temporaries(out / RESULTS), *stale_temporaries(out / SETTINGS)):
        if stale.is_file():
            stale.unlink()
    if not (out / MARKER).is_file():
        write_marker(out, KIND)
    results = out / RESULTS
    if plan.fresh:
        results.unlink(missing_ok=True)
    replace_file(out / SETTINGS,
                 lambda tmp: tmp.write_text(settings_toml(plan), encoding="utf-8"))
    rows = _kept_rows(results, plan) if results.exists() else []
    text = "".join(csv_line(row) for row in (plan.columns, *rows))
    replace_file(results, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    record(out, [SETTINGS, RESULTS], kind=KIND)
    return results


def run_sweep(plan: SweepPlan, *, scheduler: str | None = None, workers: int | None = None,
              on_row: Callable[[dict[str, str]], None] | None = None, held: Claim | None = None,
              connect_timeout: float = CONNECT_TIMEOUT_S) -> SweepReport:
    """Run the plan's pending cells on Dask, appending each row the moment its cell finishes.

    ``held`` is the caller's claim of ``plan.out`` (kind "sweep"); without it the
    directory is claimed here, and either way held to the end of the run, so a
    second writer is refused at once (:class:`SystemFailure`). Under the claim
    the plan is settled (:func:`~hybridnet.sweep.plan.settle_plan`). The cluster
    is reached before anything is written, so an unreachable ``scheduler``
    (tried for ``connect_timeout`` s) leaves the directory as it was; no cluster
    is started when nothing is pending. ``on_row`` sees every row written (as
    ``{column: text}``), e.g. to advance a progress bar.
    """
    from distributed import as_completed

    with ExitStack() as stack:
        if held is None:
            held = stack.enter_context(claimed(plan.out, kind=KIND, force=plan.force))
        plan = settle_plan(plan, held)
        skipped = len(plan.cells) - len(plan.pending)
        if not plan.pending:
            return SweepReport(_prepare_directory(plan), ran=0, failed=0, skipped=skipped)
        client = stack.enter_context(dask_client(scheduler, workers, connect_timeout))
        results = _prepare_directory(plan)
        base_toml = to_toml(plan.scenario)
        failed = 0
        with results.open("a", encoding="utf-8") as f:
            futures = {
                client.submit(run_cell, base_toml, plan.scenario.source, cell.overrides,
                              cell.seed, plan.policy, plan.engine, plan.checkpoint,
                              pure=False): cell
                for cell in plan.pending
            }
            for future in as_completed(futures):
                try:
                    metrics, error = future.result(), ""
                except Exception as err:  # whatever a cell raises is its result, not ours
                    metrics, error = None, f"{type(err).__name__}: {err}"
                    failed += 1
                row = result_row(futures[future], plan.policy, plan.engine, metrics, error)
                f.write(csv_line(row))
                f.flush()
                os.fsync(f.fileno())
                record(plan.out, [RESULTS], kind=KIND)
                future.release()
                if on_row is not None:
                    on_row(dict(zip(plan.columns, row, strict=True)))
    return SweepReport(results, ran=len(plan.pending), failed=failed, skipped=skipped)
