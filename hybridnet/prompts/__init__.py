"""Personal prompts, public prompts and their similarity phi (eq. 10) under the four schemes.

The simulator calls :func:`assign_prompts` (draw prompts from a corpus, then
apply a scheme) or :func:`group_prompts` (apply a scheme to given prompts);
both return a :class:`PromptAssignment`. See :mod:`hybridnet.prompts.schemes`.
The names of the schemes, phi sources and HIS agents are
:data:`~hybridnet.registry.PROMPT_SCHEMES`, :data:`~hybridnet.registry.PHI_SOURCES`
and :data:`~hybridnet.registry.HIS_AGENTS`.
"""

from hybridnet.prompts.schemes import PromptAssignment, assign_prompts, group_prompts

__all__ = ["PromptAssignment", "assign_prompts", "group_prompts"]
