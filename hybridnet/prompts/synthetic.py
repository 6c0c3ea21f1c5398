"""Synthetic phi: the schemes' similarity statistics without prompts or embeddings.

For very large cells (10^4 to 10^6 UEs) drawing and embedding real prompts
costs more than the simulation. This module keeps what the controller sees
of a scheme, groups and a phi per UE, and draws phi from a distribution
measured on the embedding path instead.

Measured with ``benchmarks/bench_prompts.py --calibrate``: 100 cells of
N = 50 UEs drawn from the bundled corpus, M = 2 groups (Table I), offline
agent, seeds 0..99. Phi of every UE under HIS; under PPGFIS and GFIS phi of
every UE except the one whose own prompt became the public prompt (its phi is
exactly 1, and it is kept that way here):

=======  ======  ======  =====================  ====================
scheme   mean    sd      mean phi incl. author  Beta(a, b), see below
=======  ======  ======  =====================  ====================
his      0.3159  0.1383  0.3159                 a = 30.31, b = 15.76
ppgfis   0.1566  0.1152  0.1904                 a = 41.91, b = 30.56
gfis     0.1396  0.1072  0.1568                 a = 48.03, b = 36.27
=======  ======  ======  =====================  ====================

Cosine similarities live on [-1, 1] and a few measured ones are negative, so
phi = 2 B - 1 with B ~ Beta(a, b), a and b matching the mean and sd above.
IIS needs no draw: phi = 1 (each UE's only prompt is its own). Groups are a
uniformly random balanced partition into M; statistics measured at M = 2 are
used for any M, which understates phi for many small groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.prompts.assignment import PromptAssignment, check_scheme
from hybridnet.prompts.grouping import AUTO, check_num_groups


@dataclass(frozen=True)
class PhiDistribution:
    """phi = 2 B - 1 with B ~ Beta(a, b), parametrised by phi's own mean and sd."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        if not -1.0 < self.mean < 1.0 or not 0.0 < self.sd < np.sqrt(1.0 - self.mean**2):
            raise ValueError(
                f"PhiDistribution(mean={self.mean}, sd={self.sd}) needs -1 < mean < 1 and "
                "0 < sd < sqrt(1 - mean^2)"
            )

    @property
    def beta_params(self) -> tuple[float, float]:
        """(a, b) of the Beta on [0, 1] that B = (phi + 1) / 2 follows (method of moments)."""
        m, s = (self.mean + 1.0) / 2.0, self.sd / 2.0
        common = m * (1.0 - m) / s**2 - 1.0
        return m * common, (1.0 - m) * common

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        a, b = self.beta_params
        return 2.0 * rng.beta(a, b, size=size) - 1.0


PHI_DISTRIBUTIONS = {
    "his": PhiDistribution(mean=0.3159, sd=0.1383),
    "ppgfis": PhiDistribution(mean=0.1566, sd=0.1152),
    "gfis": PhiDistribution(mean=0.1396, sd=0.1072),
}
"""Measured phi statistics per scheme (see the module docstring)."""


def synthetic_assignment(
    scheme: str, num_ues: int, num_groups: int | str, rng: np.random.Generator
) -> PromptAssignment:
    """Groups and phi for ``num_ues`` UEs, drawn from the scheme's measured distribution.

    Costs O(N), so a million UEs take well under a second. ``"auto"`` needs
    prompts to cluster and is refused for HIS and PPGFIS.
    """
    check_scheme(scheme)
    if scheme == "iis":
        return PromptAssignment(None, np.arange(num_ues), None, np.ones(num_ues), False)
    if scheme == "gfis":
        labels = np.zeros(num_ues, dtype=np.int64)
        authors = np.array([rng.integers(num_ues)])
    else:
        k = check_num_groups(num_groups, num_ues)
        if k == AUTO:
            raise HybridnetError(
                f"num_groups = 'auto' needs phi_source = 'embedding' for scheme {scheme!r}: "
                "synthetic phi has no prompts to cluster; give M instead"
            )
        rank = rng.permutation(num_ues)
        labels = (rank % int(k)).astype(np.int64)
        authors = np.argsort(rank)[: int(k)]  # the UE ranked g is a uniform member of group g
    phi = PHI_DISTRIBUTIONS[scheme].draw(rng, num_ues)
    if scheme != "his":
        phi[authors] = 1.0  # PPGFIS/GFIS: one member's own prompt is the public prompt
    return PromptAssignment(None, labels, None, phi, True)
