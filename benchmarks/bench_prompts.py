"""Benchmark of the prompt layer: eq. (10) embeddings and the schemes' grouping.

    python benchmarks/bench_prompts.py              # timings
    python benchmarks/bench_prompts.py --calibrate  # phi statistics behind synthetic.py

Timings: embedding 1,000 distinct prompts in a fresh process with an empty
cache (goal: at most 20 s on 2 cores, model loading included) and again in a
fresh process from the cache (goal: at most 1 s); then grouping 10,000
distinct prompts under each scheme with their embeddings cached. The prompts
are the bundled corpus with style and light suffixes, so every text is new to
the model. The cache lives in a temporary directory, never the user's.

``--calibrate`` measures the phi distribution per scheme on the embedding path
(N = 50, M = 2, 100 cells) and the mean phi on the whole bundled corpus, the
numbers quoted in ``hybridnet/prompts/synthetic.py``; it uses the ordinary
cache (``$HYBRIDNET_CACHE`` or ``~/.cache/hybridnet``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STYLES = ("oil painting", "35mm photo", "watercolor", "3D render", "pencil sketch", "anime style")
LIGHTS = ("at dawn", "at dusk", "under neon light", "in fog", "at noon", "by candlelight",
          "in the rain")

_EMBED_SNIPPET = """
import sys, time
t0 = time.perf_counter()
from benchmarks.bench_prompts import distinct_prompts
from hybridnet.prompts.embeddings import embed
texts = distinct_prompts({count})
t1 = time.perf_counter()
embed(texts)
t2 = time.perf_counter()
print(f"{{t2 - t0:.2f}} {{t2 - t1:.2f}}")
"""


def distinct_prompts(count: int) -> list[str]:
    """``count`` distinct prompts (up to 10,080): bundled prompts with style and light added."""
    from hybridnet.prompts.corpus import resolve_corpus

    base = resolve_corpus("bundled")
    out = [f"{text}, {style}, {light}" for style in STYLES for light in LIGHTS for text in base]
    if count > len(out):
        raise ValueError(f"at most {len(out)} distinct prompts, asked for {count}")
    return out[:count]


def _embed_in_fresh_process(count: int, cache: str) -> tuple[float, float]:
    """(seconds from process start to done, seconds in embed()) for ``count`` prompts."""
    env = {**os.environ, "HYBRIDNET_CACHE": cache}
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _EMBED_SNIPPET.format(count=count)],
        env=env, cwd=root, capture_output=True, text=True, check=True,
    )
    wall = time.perf_counter() - start
    _, in_embed = (float(v) for v in done.stdout.split())
    return wall, in_embed


def bench_timings() -> None:
    from hybridnet.prompts import group_prompts
    from hybridnet.prompts.embeddings import embed

    print(f"CPU cores visible: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as cache:
        wall, inside = _embed_in_fresh_process(1000, cache)
        print(f"embed 1,000 prompts, cold (new process, empty cache): {wall:6.2f} s "
              f"(embed() itself {inside:.2f} s; goal <= 20 s)")
        wall, inside = _embed_in_fresh_process(1000, cache)
        print(f"embed 1,000 prompts, from the disk cache (new process): {wall:6.2f} s "
              f"(embed() itself {inside:.2f} s; goal <= 1 s)")

        os.environ["HYBRIDNET_CACHE"] = cache
        texts = distinct_prompts(10_000)
        start = time.perf_counter()
        embed(texts)
        print(f"embed 10,000 prompts, cold, in process: {time.perf_counter() - start:6.2f} s")
        for scheme, groups in (("his", 2), ("his", 12), ("his", "auto"), ("ppgfis", 12),
                               ("ppgfis", "auto"), ("gfis", 1), ("iis", 1)):
            start = time.perf_counter()
            result = group_prompts(scheme, texts, groups, np.random.default_rng(0))
            first = time.perf_counter() - start
            start = time.perf_counter()
            group_prompts(scheme, texts, groups, np.random.default_rng(0))
            again = time.perf_counter() - start
            print(f"group 10,000 prompts, {scheme:6s} M={groups!s:4s}: {first:6.2f} s "
                  f"(repeat, public drafts cached: {again:5.2f} s), {result.num_groups} groups, "
                  f"mean phi {result.phi.mean():.3f}")


def calibrate() -> None:
    from hybridnet.prompts import assign_prompts, group_prompts
    from hybridnet.prompts.corpus import resolve_corpus
    from hybridnet.prompts.synthetic import PHI_DISTRIBUTIONS, PhiDistribution

    print("phi per scheme, N = 50, M = 2, bundled corpus, seeds 0..99 "
          "(PPGFIS/GFIS without the member whose prompt is the public one)")
    for scheme in ("his", "ppgfis", "gfis"):
        values, means = [], []
        for seed in range(100):
            result = assign_prompts(scheme, 50, 2, np.random.default_rng(seed))
            means.append(result.phi.mean())
            own = np.array([p == result.public[g] for p, g in zip(result.personal, result.group,
                                                                    strict=True)])
            values.append(result.phi if scheme == "his" else result.phi[~own])
        phi = np.concatenate(values)
        measured = PhiDistribution(float(phi.mean()), float(phi.std()))
        a, b = measured.beta_params
        shipped = PHI_DISTRIBUTIONS[scheme]
        print(f"  {scheme:6s} mean {measured.mean:.4f} sd {measured.sd:.4f} "
              f"(Beta a={a:.2f} b={b:.2f} on [-1, 1]); mean phi incl. author "
              f"{np.mean(means):.4f}; shipped mean {shipped.mean:.4f} sd {shipped.sd:.4f}")
    texts = resolve_corpus("bundled")
    for groups in (2, 12):
        parts = []
        for scheme in ("his", "ppgfis", "gfis"):
            runs = [group_prompts(scheme, texts, groups, np.random.default_rng(seed))
                    for seed in range(5)]
            parts.append(f"{scheme} {np.mean([r.phi.mean() for r in runs]):.4f}")
        print(f"mean phi, whole bundled corpus (240 prompts), M = {groups}, seeds 0..4: "
              + ", ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calibrate", action="store_true",
                        help="measure the phi statistics behind synthetic phi instead")
    args = parser.parse_args()
    if args.calibrate:
        calibrate()
    else:
        bench_timings()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
