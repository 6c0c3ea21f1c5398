"""The teacher's choices the default mode's actors imitate (``[train] imitation``).

The teacher is a :class:`~hybridnet.policies.oracle.SlotSolution`: the closed-form
oracle's on the closed form, and on the DES the fluid policy's the actors observed
while deciding (:attr:`~hybridnet.rl.controller.Decision.fluid`), since the oracle's
decisions overload the queues there. docs/controller.md says why imitation helps.
"""

from __future__ import annotations

import numpy as np

from hybridnet.policies.oracle import SlotSolution
from hybridnet.rl.controller import Decision


def teacher_solution(decision: Decision, optimum: SlotSolution) -> SlotSolution:
    """What the actors imitate: the fluid solution they observed, else the oracle's."""
    return decision.fluid if decision.fluid is not None else optimum


def teacher_targets(decision: Decision, solution: SlotSolution, num_y: int
                    ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The teacher's choices for the default mode's UE and group actors, in the order
    they acted (None where an actor has none: paper mode has no bound).

    A UE's target is its exact best response to the bound X_m its group actually
    drew (so it is right whatever the group actor did), as an index (offset, y) of
    its joint choice; the group actor's target is the teacher's X_m.
    """
    if decision.bound is None:
        return None, None
    x, y = solution.respond(decision.bound)
    ue_targets = ((decision.bound - x) * num_y + y).T.reshape(1, -1)
    group_targets = None
    if decision.group is not None and decision.rows is not None:
        group_targets = solution.group_bound[decision.rows.slot, decision.rows.group]
    return ue_targets, group_targets
