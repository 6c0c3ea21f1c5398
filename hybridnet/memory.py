"""How much memory this process may use: the tightest of its address-space limit, its
control groups' limits and what the machine has free.

A run that cannot fit should say so before it starts. Past a cgroup's limit the
kernel kills the process outright (SIGKILL: no message, nothing cleaned), so a
MemoryError is not something to count on; comparing a lower bound of what the
run needs with this limit is.
"""

from __future__ import annotations

import resource
from contextlib import suppress
from pathlib import Path

PER_UE_BYTES = 1700
"""What a run holds per UE whatever its slots, 90 % of what was measured: a run of 100,000 UEs
(local policy, DES) peaks at 420 MB resident over 2 slots and at 841 MB over 8."""

PER_UE_SLOT_BYTES = 630
"""What a run holds per UE and slot (its records, frames and events), 90 % of the same
measurement: 421 MB more for 600,000 more UE-slots."""

UNLIMITED = 2**60
"""cgroups write "max" or a number near 2**63 for no limit."""


def _cgroup_limits() -> list[tuple[int, str]]:
    """The memory limits of this process's cgroup and its parents, v1 and v2."""
    found = []
    with suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controllers == "":
                root, name = Path("/sys/fs/cgroup"), "memory.max"
            elif "memory" in controllers.split(","):
                root, name = Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes"
            else:
                continue
            group = root / path.lstrip("/")
            for directory in (group, *group.parents):
                if not directory.is_relative_to(root):
                    break
                with suppress(OSError, ValueError):
                    value = int((directory / name).read_text().strip())
                    if value < UNLIMITED:
                        found.append((value, f"the cgroup limit ({directory / name})"))
    return found


def _available() -> tuple[int, str] | None:
    with suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024, "the memory the machine has free"
    return None


def memory_limit() -> tuple[int, str] | None:
    """(bytes, what sets it) of the tightest limit, or None where none can be read."""
    limits = _cgroup_limits()
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append((soft, "the address-space limit (ulimit -v)"))
    available = _available()
    if available is not None:
        limits.append(available)
    return min(limits) if limits else None


def gib(size_bytes: float) -> str:
    return f"{size_bytes / 2**30:.1f} GiB"
