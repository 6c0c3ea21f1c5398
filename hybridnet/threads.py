"""torch's CPU thread count, set for a block and given back after it.

Both the trainer and the prompt embedder run small networks, for which extra
threads buy little, while on shared cores OpenMP's spin-waiting makes them far
slower; they pin the count for their block and leave the caller's own setting
as it was. This sits below ``rl`` and ``prompts`` so both can use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch CPU threads (0: leave torch's setting)."""
    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
