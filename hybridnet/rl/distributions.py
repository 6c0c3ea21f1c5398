"""Masked categorical policies over the feasible step splits.

Infeasible choices get a large but finite negative logit rather than -inf:
their probability underflows to exactly 0, so they are never sampled, yet
``p * log p`` stays 0 instead of NaN and the entropy bonus and its gradient
remain finite.
"""

from __future__ import annotations

import torch

MASKED_LOGIT = -1e8
"""Logit of an infeasible choice: exp(-1e8 - max) is 0 in float32 and float64."""


class MaskedCategorical:
    """A categorical over the last dimension of ``logits`` restricted to ``mask``."""

    def __init__(self, logits: torch.Tensor, mask: torch.Tensor) -> None:
        masked = torch.where(mask, logits, MASKED_LOGIT)
        self.log_probs = torch.log_softmax(masked, dim=-1)
        self.mask = mask

    @property
    def probs(self) -> torch.Tensor:
        return self.log_probs.exp()

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """One draw per row, by inverse CDF on uniforms from ``generator``.

        The first index whose cumulative probability exceeds u has a positive
        probability, so a masked choice is never drawn, even for u = 0.
        """
        # Uniforms come from a CPU generator whatever the device, so a seed means
        # the same draws on CPU and GPU.
        uniform = torch.rand(self.log_probs.shape[:-1] + (1,), generator=generator,
                             dtype=self.log_probs.dtype).to(self.log_probs.device)
        cdf = self.probs.cumsum(-1)
        # The last feasible index caps rounding in the cumulative sum at 1 - eps.
        last = self.mask.shape[-1] - 1 - self.mask.flip(-1).int().argmax(-1, keepdim=True)
        return torch.minimum((cdf <= uniform * cdf[..., -1:]).sum(-1, keepdim=True),
                             last).squeeze(-1)

    def mode(self) -> torch.Tensor:
        """The most likely feasible choice (greedy action)."""
        return self.log_probs.argmax(-1)

    def log_prob(self, action: torch.Tensor) -> torch.Tensor:
        return self.log_probs.gather(-1, action.unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        return -(self.probs * self.log_probs).sum(-1)

