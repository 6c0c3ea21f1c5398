"""The outcome of a prompt scheme: groups, public prompts and phi per UE."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.registry import PROMPT_SCHEMES


@dataclass(frozen=True)
class PromptAssignment:
    """Who shares a common phase with whom, and how well the shared prompt fits each UE."""

    personal: list[str] | None
    """Personal prompt per UE (None for synthetic phi)."""
    group: np.ndarray
    """Group index per UE, 0..num_groups-1, every group non-empty."""
    public: list[str] | None
    """Public prompt per group (None for synthetic phi and for IIS)."""
    phi: np.ndarray
    """Eq. (10) similarity of each UE's personal prompt to its group's public prompt."""
    allows_common_phase: bool
    """False for IIS: the controller may not choose x_n > 0."""

    def __post_init__(self) -> None:
        n = len(self.group)
        if self.phi.shape != (n,):
            raise ValueError(f"phi has shape {self.phi.shape}, expected ({n},)")
        if self.personal is not None and len(self.personal) != n:
            raise ValueError(f"{len(self.personal)} personal prompts for {n} UEs")
        if n and (self.group.min() < 0 or np.unique(self.group).size != self.group.max() + 1):
            raise ValueError("group indices must be 0..num_groups-1 with no group empty")
        if self.public is not None and len(self.public) != self.num_groups:
            raise ValueError(f"{len(self.public)} public prompts for {self.num_groups} groups")

    @property
    def num_groups(self) -> int:
        """M, the number of groups (and of common phases, when they are allowed)."""
        return int(self.group.max()) + 1 if len(self.group) else 0


def check_scheme(scheme: str) -> None:
    """Refuse an unknown scheme with the list of known ones."""
    if scheme not in PROMPT_SCHEMES:
        raise HybridnetError(
            f"unknown prompt scheme {scheme!r}; choose one of {', '.join(PROMPT_SCHEMES)}"
        )
