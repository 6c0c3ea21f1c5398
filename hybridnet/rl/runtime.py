"""What a training run needs of its process: independent seeds, deferred signals, a device."""

from __future__ import annotations

import signal
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from hybridnet.errors import Terminated


def derive_seed(root: int, purpose: str, index: int = 0) -> int:
    """A 63-bit seed for ``purpose`` number ``index`` under ``root``: independent streams."""
    seq = np.random.SeedSequence([root, zlib.crc32(purpose.encode()), index])
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) and SIGTERM until the block is done; raise them afterwards.

    SIGTERM is raised as :class:`~hybridnet.errors.Terminated`, a KeyboardInterrupt,
    so both leave the trainer between two episodes. Only the main thread can
    handle signals; elsewhere the block runs as is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda signum, _frame: received.append(signum))
                for signum in handled}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if signal.SIGTERM in received:
        raise Terminated
    if received:
        raise KeyboardInterrupt


def resolve_device(name: str) -> torch.device:
    """``cpu``, or for ``auto`` the first GPU when torch sees one."""
    if name == "auto" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
