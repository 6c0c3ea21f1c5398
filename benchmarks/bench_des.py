"""How fast is the DES? Bare SimPy, the DES at three sizes, and the closed form.

    .venv/bin/python benchmarks/bench_des.py            # the full table (about a minute)
    .venv/bin/python benchmarks/bench_des.py --quick    # N = 50 and 1,000 only

What is measured, all in CPU seconds of the measuring process
(``time.process_time``, so that other load on the machine matters less), best
of three repeats:

- bare SimPy: timeouts per second of one process yielding ``env.timeout`` in a
  loop; and of N such processes at once, because a heap of N pending events
  makes every event dearer and the DES at size N has such a heap too.
- the SimPy floor: the request pipeline written as bare SimPy with nothing
  recorded (per UE and slot a process with three timeouts and a CPU
  request and release), i.e. the least any SimPy model of it can cost.
- the DES (``simulate_des``, random policy, the default scenario otherwise)
  for N = 50, 1,000 and 10,000 UEs under the ``dedicated`` and ``fcfs`` ES
  schedulers: seconds per slot, UE-slots and events per second, the cost of
  one event relative to a bare timeout, and the peak resident memory. Events
  are the ones SimPy processes (calls of ``Environment.step``: timeouts,
  resource requests and releases, process starts and ends, hand-off events),
  counted in a second, identical run whose ``step`` is wrapped in a counter;
  the run is deterministic, so that is the timed run's count. The timed run
  includes everything ``simulate_des`` does (conditions, policy, frames).
- the closed form: UE-slots per second of ``evaluate`` on all slots at once.

Each DES size runs in a fresh process (multiprocessing, spawn), so the peak
RSS it reports (``getrusage``) is that size's alone; "base" is the RSS of the
fresh process after the imports, before simulating.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

clock = time.process_time
REPEATS = 3


def counted(run: Callable[[], object]) -> int:
    """Events SimPy processes during ``run()``: calls of ``Environment.step``."""
    count = 0
    step = simpy.Environment.step

    def counting_step(env: simpy.Environment) -> None:
        nonlocal count
        count += 1
        step(env)

    simpy.Environment.step = counting_step
    try:
        run()
    finally:
        simpy.Environment.step = step
    return count


def floor_pipeline(num_ues: int, slots: int) -> None:
    """The DES's per-request pipeline in bare SimPy, nothing recorded, nothing decided."""
    env = simpy.Environment()
    cpus = [simpy.Resource(env, capacity=1) for _ in range(num_ues)]
    durations = np.random.default_rng(0).uniform(0.0, 0.2, (slots, num_ues, 3)).tolist()

    def request(cpu: simpy.Resource, es_s: float, tx_s: float, ue_s: float):
        yield env.timeout(es_s)
        yield env.timeout(tx_s)
        turn = cpu.request()
        if not turn.triggered:
            yield turn
        yield env.timeout(ue_s)
        cpu.release(turn)

    def controller():
        for k in range(slots):
            if k:
                yield env.timeout(1.0)
            for cpu, (es_s, tx_s, ue_s) in zip(cpus, durations[k], strict=True):
                env.process(request(cpu, es_s, tx_s, ue_s))

    env.process(controller())
    env.run()


def best_of(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = clock()
        run()
        best = min(best, clock() - start)
    return best


def bare_timeout_s(processes: int, events: int = 300_000) -> float:
    """CPU seconds per bare timeout with ``processes`` processes looping at once."""
    def loop(env: simpy.Environment, period: float):
        while True:
            yield env.timeout(period)

    best = float("inf")
    for _ in range(REPEATS):
        env = simpy.Environment()
        periods = np.random.default_rng(0).uniform(0.5, 1.5, processes)
        for period in periods.tolist():
            env.process(loop(env, period))
        start = clock()
        env.run(until=events / processes)
        elapsed = clock() - start
        best = min(best, elapsed / events)
    return best


@dataclass
class DesFigures:
    num_ues: int
    scheduler: str
    slots: int
    seconds: float
    events: int
    closed_form_seconds: float
    base_rss_mib: float
    peak_rss_mib: float


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # KiB on Linux


def measure_des(num_ues: int, scheduler: str, slots: int) -> DesFigures:
    """Time, count and weigh ``slots`` slots of N UEs (runs in a fresh process)."""
    from hybridnet.model.objective import evaluate
    from hybridnet.model.params import ModelParams
    from hybridnet.model.reference import resolve_references
    from hybridnet.model.slot import SlotState
    from hybridnet.policies import RandomPolicy
    from hybridnet.scenario import from_dict
    from hybridnet.sim import simulate_des
    from hybridnet.sim.conditions import Conditions

    scenario = resolve_references(from_dict(
        {"network": {"num_ues": num_ues}, "edge": {"scheduler": scheduler}}, "<bench>"))
    base_rss = _rss_mib()

    def run() -> None:
        simulate_des(scenario, RandomPolicy(scenario.steps, np.random.default_rng(0)), 0,
                     slots=slots)

    seconds = best_of(run)
    peak_rss = _rss_mib()
    count = counted(run)

    params = ModelParams.from_scenario(scenario)
    conditions = Conditions(scenario, 0)
    policy = RandomPolicy(scenario.steps, np.random.default_rng(0))
    states = [conditions.slot(k) for k in range(slots)]
    decisions = [policy.decide(state) for state in states]
    batch = SlotState(
        f_ue_hz=np.stack([s.f_ue_hz for s in states]), phi=np.stack([s.phi for s in states]),
        group=np.stack([s.group for s in states]), gain=np.stack([s.gain for s in states]),
        num_groups=states[0].num_groups)
    x = np.stack([d[0] for d in decisions])
    y = np.stack([d[1] for d in decisions])
    closed = best_of(lambda: evaluate(params, batch, x, y))
    return DesFigures(num_ues, scheduler, slots, seconds, count, closed, base_rss, peak_rss)


def measure_in_fresh_process(num_ues: int, scheduler: str, slots: int) -> DesFigures:
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(measure_des, (num_ues, scheduler, slots))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip N = 10,000")
    args = parser.parse_args()
    sizes = (50, 1_000) if args.quick else (50, 1_000, 10_000)

    bare_one = bare_timeout_s(1)
    print(f"bare SimPy, 1 process:  {1 / bare_one / 1e6:.2f} M timeouts/s "
          f"({bare_one * 1e6:.2f} us each)")
    bare_n = {n: bare_timeout_s(n) for n in sizes}
    for n, cost in bare_n.items():
        print(f"bare SimPy, {n:>6,} processes: {1 / cost / 1e6:.2f} M timeouts/s "
              f"({cost * 1e6:.2f} us each)")
    floor = {}
    for n in sizes:
        slots = max(2, 20_000 // n)
        cost = best_of(lambda n=n, slots=slots: floor_pipeline(n, slots))
        floor[n] = cost / counted(lambda n=n, slots=slots: floor_pipeline(n, slots))
        print(f"SimPy floor, N = {n:>6,}: {1 / floor[n] / 1e6:.2f} M events/s "
              f"({floor[n] * 1e6:.2f} us each, {floor[n] / bare_one:.2f} x bare1)")
    print()
    header = (f"{'N':>6} {'ES':>9} {'slots':>5} {'s/slot':>8} {'UE-slots/s':>10} "
              f"{'ev/UE-slot':>10} {'events/s':>9} {'us/event':>8} {'x bare1':>7} "
              f"{'x bareN':>7} {'x floor':>7} {'closed UE-slots/s':>17} {'RSS MiB':>13}")
    print(header)
    print("-" * len(header))
    for n in sizes:
        slots = max(2, 20_000 // n)
        for scheduler in ("dedicated", "fcfs"):
            f = measure_in_fresh_process(n, scheduler, slots)
            ue_slots = n * slots
            per_event = f.seconds / f.events
            print(f"{n:>6,} {scheduler:>9} {slots:>5} {f.seconds / slots:>8.4f} "
                  f"{ue_slots / f.seconds:>10,.0f} {f.events / ue_slots:>10.2f} "
                  f"{f.events / f.seconds:>9,.0f} {per_event * 1e6:>8.2f} "
                  f"{per_event / bare_one:>7.2f} {per_event / bare_n[n]:>7.2f} "
                  f"{per_event / floor[n]:>7.2f} "
                  f"{ue_slots / f.closed_form_seconds:>17,.0f} "
                  f"{f.base_rss_mib:>5.0f} -> {f.peak_rss_mib:>4.0f}")


if __name__ == "__main__":
    main()
