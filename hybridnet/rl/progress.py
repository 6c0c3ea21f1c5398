"""Training announced and followed: what is trained and why, its expected time, its progress.

Training the HID controller takes from a minute (the paper's cell) to many
(hundreds of UEs on the DES), and ``hybridnet run`` starts it by itself when
no controller is cached for the scenario. So it never starts silently: one
line first says what is trained, why, and about how long it should take, and
progress follows on stderr: tqdm's bar on a terminal, and where stderr is a
file or a pipe (a batch job, a notebook's captured output, CI) a plain line
every :data:`PROGRESS_EVERY_S` seconds, which a bar would hide.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from hybridnet.model.reference import resolve_references, training_engine
from hybridnet.scenario import Scenario

SECONDS_PER_UE_SLOT = 1.4e-4
"""Training time per UE and episode slot on 2 cores, for the estimate: measured 1.2e-4 on
the paper's cell (500 episodes of 20 slots x 50 UEs, closed form, about a minute) and
1.4e-4 on dense.toml (100 episodes of 30 DES slots x 300 UEs, 124-142 s)."""

PROGRESS_EVERY_S = 5.0
"""How often a progress line is written where stderr is not a terminal."""


def expected_training_s(scenario: Scenario) -> float:
    """About how long training ``scenario``'s controller takes on 2 cores (seconds)."""
    resolved = resolve_references(scenario)
    slots = resolved.train.episode_slots
    assert isinstance(slots, int)
    return (resolved.train.episodes * slots * resolved.network.num_ues * SECONDS_PER_UE_SLOT)


def duration_text(seconds: float) -> str:
    """``40 s``, ``3.5 min``, ``1.2 h``: a duration as a person reads it."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def training_notice(scenario: Scenario, cache: Path) -> str:
    """The line said before a controller is trained because none is cached for ``scenario``."""
    resolved = resolve_references(scenario)
    tr = resolved.train
    return (f"training the HID controller for {resolved.source} ({resolved.network.num_ues} "
            f"UEs, {tr.episodes} episodes of {tr.episode_slots} slots, {tr.mode} mode, "
            f"{training_engine(resolved)} engine): none is cached for this scenario in "
            f"{cache}; expected about {duration_text(expected_training_s(resolved))} on "
            "2 cores, then cached for every later run (--checkpoint skips this)")


@contextmanager
def episode_progress(total: int, desc: str, *, initial: int = 0, enabled: bool = True,
                     stream: TextIO | None = None
                     ) -> Iterator[Callable[[dict[str, float]], None]]:
    """A callback for :meth:`~hybridnet.rl.train.Trainer.train`'s ``on_episode``.

    On a terminal, tqdm's bar; elsewhere a line every :data:`PROGRESS_EVERY_S`
    seconds and one at the end: episode, mean reward of the last 10 episodes
    beside the oracle's, time so far and time left at the pace so far.
    """
    out = sys.stderr if stream is None else stream
    if not enabled:
        yield lambda _row: None
        return
    if out.isatty():
        recent: list[dict[str, float]] = []
        with tqdm(total=total, initial=initial, desc=desc, unit="ep", file=out,
                  dynamic_ncols=True) as bar:
            def tick(row: dict[str, float]) -> None:
                recent[:] = [*recent[-9:], row]
                bar.update(1)
                bar.set_postfix(reward=_mean(recent, "reward"),
                                oracle=_mean(recent, "oracle_reward"))

            yield tick
        return
    start = last = time.perf_counter()
    done = initial
    window: list[dict[str, float]] = []

    def line(now: float) -> None:
        elapsed = now - start
        pace = elapsed / max(done - initial, 1)
        when = (f"done in {duration_text(elapsed)}" if done >= total else
                f"{duration_text(elapsed)} so far, about {duration_text(pace * (total - done))} "
                "left")
        out.write(f"  {desc}: episode {done}/{total}, reward {_mean(window, 'reward')} "
                  f"(oracle {_mean(window, 'oracle_reward')}), {when}\n")
        out.flush()

    def tick(row: dict[str, float]) -> None:
        nonlocal done, last
        done += 1
        window[:] = [*window[-9:], row]
        now = time.perf_counter()
        if now - last >= PROGRESS_EVERY_S or done == total:
            last = now
            line(now)

    yield tick


def _mean(rows: list[dict[str, float]], key: str) -> str:
    values = [row[key] for row in rows if key in row]
    return f"{sum(values) / len(values):+.4f}" if values else "n/a"


def untrained_notice(scenarios: list[Scenario], what: str) -> str | None:
    """The line said before runs that train controllers, or None if every one is cached.

    ``scenarios`` are those of the runs of ``hid`` without a checkpoint (one per
    sweep cell, or the comparison's), ``what`` names them ("the grid cells");
    scenarios sharing a cache entry count once.
    """
    from hybridnet.rl.policy import cache_dir, cached_path, controller_kind

    missing = {cached_path(s): s for s in scenarios if controller_kind(s) == "specialist"}
    missing = {path: s for path, s in missing.items() if not path.is_file()}
    if not missing:
        return None
    each = [expected_training_s(s) for s in missing.values()]
    many = len(missing) > 1
    return (f"training {len(missing)} HID controller{'s' if many else ''} first, for {what} "
            f"(none is cached for {'their' if many else 'its'} scenario in {cache_dir()}): "
            f"expected about {duration_text(max(each))}{' each' if many else ''} on 2 cores, "
            "then cached")
