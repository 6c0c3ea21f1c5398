"""The HID controller: batched per-UE actor-critics trained with IPPO, and a PettingZoo env.

- :mod:`~hybridnet.rl.networks`: N independent MLPs as stacked weights.
- :mod:`~hybridnet.rl.distributions`: masked categoricals over feasible splits.
- :mod:`~hybridnet.rl.controller`: what the actors observe and how a slot is decided.
- :mod:`~hybridnet.rl.ppo`: GAE, reward scaling and the clipped-surrogate update.
- :mod:`~hybridnet.rl.rollout`: one training episode played, on the closed form or the DES.
- :mod:`~hybridnet.rl.rewards`: each population's reward streams (paper and default mode).
- :mod:`~hybridnet.rl.teacher`: the teacher's targets the default mode imitates.
- :mod:`~hybridnet.rl.prefetch`: the next DES episode's slots solved on a second thread.
- :mod:`~hybridnet.rl.runtime`: seeds, deferred signals, the device.
- :mod:`~hybridnet.rl.train`: the trainer: episodes, updates, its log and its state.
- :mod:`~hybridnet.rl.checkpoint`: that state on disk: saving, checking, loading, resuming.
- :mod:`~hybridnet.rl.policy`: the trained controller as a Policy, and its cache
  (:mod:`hybridnet.api` registers it as the ``hid`` policy).
- :mod:`~hybridnet.rl.pettingzoo_env`: the scenario as a PettingZoo ``ParallelEnv``.

Nothing is imported here, so ``import hybridnet.rl.pettingzoo_env`` does not pull
in the trainer, and the rest of hybridnet does not pull in torch.
"""
