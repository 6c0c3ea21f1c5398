"""Personal prompts, public prompts and their similarity phi (eq. 10) under the four schemes.

The simulator calls :func:`assign_prompts` (draw prompts from a corpus, then
apply a scheme) or :func:`group_prompts` (apply a scheme to given prompts);
both return a :class:`PromptAssignment`. See :mod:`hybridnet.prompts.schemes`.
"""

from hybridnet.prompts.schemes import (
    PHI_SOURCES,
    SCHEMES,
    PromptAssignment,
    assign_prompts,
    group_prompts,
)

__all__ = ["PHI_SOURCES", "SCHEMES", "PromptAssignment", "assign_prompts", "group_prompts"]
