"""One HID controller for every cell: trained once over a declared distribution of
closed-form cells, shipped in the package, and run by ``--policy hid`` without training.

- :mod:`.distribution`: the cells it is trained on (and the check that names a key
  outside them);
- :mod:`.features`: what it observes, every step's cost over the QoS term's weight on
  fixed log scales, so that one network reads any cell;
- :mod:`.network`: one UE actor shared by every UE (a factored x / y head) and a group
  actor over a permutation-invariant pooling of its members;
- :mod:`.cells`, :mod:`.losses`, :mod:`.train`: random cells with the exact oracle's
  answers, the teacher's cross-entropy and PPO, and the training loop
  (``python -m hybridnet.rl.generalist.train`` reproduces the shipped controller);
- :mod:`.checkpoint`, :mod:`.policy`: the file and the :class:`~hybridnet.policies.Policy`.

docs/controller.md ("The generalist") explains the design; experiments/README.md
measures it on cells it never saw.
"""
