"""The batched IPPO machinery: stacked networks, masked categoricals, the update, scaling."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from gymnasium.wrappers.utils import RunningMeanStd

from hybridnet.model.actions import action_mask
from hybridnet.rl.controller import HidController, stack_slots
from hybridnet.rl.distributions import MaskedCategorical
from hybridnet.rl.networks import ActorCritic, StackedMLP
from hybridnet.rl.ppo import PpoSettings, RewardScaler, Samples, gae, ppo_update
from hybridnet.scenario import from_dict
from hybridnet.sim.conditions import Conditions

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_stacked_mlp_equals_per_agent_modules() -> None:
    torch.manual_seed(0)
    net = StackedMLP(4, 5, (16, 16), 7, out_gain=1.0)
    x = torch.randn(4, 9, 5)
    out = net(x)
    for agent in range(4):
        torch.testing.assert_close(out[agent], net.agent_module(agent)(x[agent]))


def test_agents_are_independent() -> None:
    """Agent i's output depends on its own input and weights only."""
    torch.manual_seed(1)
    net = StackedMLP(3, 4, (8,), 2, out_gain=1.0)
    x = torch.randn(3, 5, 4)
    y = x.clone()
    y[1] += 10.0
    changed = (net(x) - net(y)).abs().sum(dim=(1, 2))
    assert changed[0] == 0 and changed[2] == 0 and changed[1] > 0


def _loop_update(model: ActorCritic, samples: Samples, settings: PpoSettings,
                 lr: float) -> list[tuple[torch.nn.Module, torch.nn.Module]]:
    """The same PPO step done the slow way: one actor, critic and Adam per agent."""
    out = []
    for agent in range(model.num_agents):
        actor = model.actor.agent_module(agent)
        critic = model.critic.agent_module(agent)
        params = [*actor.parameters(), *critic.parameters()]
        opt = torch.optim.Adam(params, lr=lr)
        obs = samples.obs[agent]
        dist = MaskedCategorical(actor(obs), samples.masks[agent])
        log_prob = dist.log_prob(samples.actions[agent])
        ratio = (log_prob - samples.log_probs[agent]).exp()
        adv = samples.advantages[agent]
        adv = (adv - adv.mean()) / (adv.std(correction=0) + 1e-8)
        surrogate = torch.min(ratio * adv,
                              ratio.clamp(1 - settings.clip, 1 + settings.clip) * adv)
        value_loss = 0.5 * (critic(obs).squeeze(-1) - samples.returns[agent]).pow(2).mean()
        loss = (-surrogate.mean() - settings.entropy_coef * dist.entropy().mean()
                + settings.value_coef * value_loss)
        # cross-entropy of the teacher's choices, over the samples that have one
        taught = samples.targets[agent] >= 0
        teacher = samples.targets[agent][taught]
        loss = loss - settings.imitation_coef * dist.log_probs[taught].gather(
            -1, teacher[:, None]).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, settings.max_grad_norm)
        opt.step()
        out.append((actor, critic))
    return out


def _random_samples(agents: int, batch: int, obs_dim: int, actions: int) -> Samples:
    g = torch.Generator().manual_seed(3)
    masks = torch.rand(agents, batch, actions, generator=g) > 0.3
    masks[..., 0] = True
    chosen = torch.stack([torch.multinomial(m.float(), 1, generator=g)[:, 0] for m in masks])
    return Samples(
        obs=torch.randn(agents, batch, obs_dim, generator=g), masks=masks,
        actions=chosen, log_probs=-torch.rand(agents, batch, generator=g) - 1.0,
        advantages=torch.randn(agents, batch, generator=g) * 3.0,
        returns=torch.randn(agents, batch, generator=g),
        # the teacher names feasible choices (those drawn) for some samples, none for others
        targets=torch.where(torch.rand(agents, batch, generator=g) > 0.5, chosen, -1),
    )


@pytest.mark.parametrize("chunk", [4096, 128])
def test_one_update_equals_per_agent_loop(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also when the update differentiates the agents in several chunks."""
    monkeypatch.setattr("hybridnet.rl.ppo.CHUNK_SAMPLES", chunk)
    torch.manual_seed(2)
    model = ActorCritic(3, 5, 6, (16, 16))
    # A small max_grad_norm so that the per-agent clipping is exercised.
    settings = PpoSettings(clip=0.2, epochs=1, batch_size=64, entropy_coef=0.01,
                           value_coef=0.5, max_grad_norm=0.05, advantage_norm=True,
                           imitation_coef=0.7)
    samples = _random_samples(3, 64, 5, 6)
    reference = _loop_update(copy.deepcopy(model), samples, settings, lr=1e-2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, fused=True)
    ppo_update(model, opt, samples, settings, torch.Generator().manual_seed(0))
    for agent, (actor, critic) in enumerate(reference):
        for mine, theirs in ((model.actor.agent_module(agent), actor),
                             (model.critic.agent_module(agent), critic)):
            for p, q in zip(mine.parameters(), theirs.parameters(), strict=True):
                torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5)


def test_masking_never_samples_an_infeasible_action() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 500, 238, generator=g) * 5
    mask = torch.rand(4, 500, 238, generator=g) > 0.9
    mask[..., 17] = True
    logits[~mask] += 50.0            # the infeasible choices would dominate if unmasked
    dist = MaskedCategorical(logits, mask)
    for _ in range(5):
        a = dist.sample(g)
        assert mask.gather(-1, a.unsqueeze(-1)).all()
    assert mask.gather(-1, dist.mode().unsqueeze(-1)).all()
    assert torch.isfinite(dist.entropy()).all()
    assert torch.isfinite(dist.log_prob(dist.mode())).all()


def test_a_single_feasible_choice_is_always_drawn() -> None:
    logits = torch.zeros(1, 10, 5)
    mask = torch.zeros(1, 10, 5, dtype=torch.bool)
    mask[..., 3] = True
    dist = MaskedCategorical(logits, mask)
    assert (dist.sample(torch.Generator().manual_seed(0)) == 3).all()
    torch.testing.assert_close(dist.entropy(), torch.zeros(1, 10))


@pytest.mark.parametrize("mode", ["paper", "default"])
def test_controller_only_takes_feasible_splits(mode: str) -> None:
    scenario = from_dict({"network": {"num_ues": 8}, "sim": {"slots": 6},
                          "steps": {"z_min": 3, "z_max": 20},
                          "train": {"mode": mode, "hidden": [16]}})
    controller = HidController(scenario, torch.Generator().manual_seed(0))
    states = stack_slots(list(Conditions(scenario, 1).slots()))
    mask = action_mask(scenario.steps)
    g = torch.Generator().manual_seed(1)
    for greedy in (False, True):
        for explore in (None, np.random.default_rng(0)):
            d = controller.act(states, greedy=greedy, generator=g, random_bound=explore)
            assert d.x.shape == (6, 8)
            assert mask[d.x, d.y].all()


def test_iis_forces_no_common_steps() -> None:
    scenario = from_dict({"network": {"num_ues": 5}, "sim": {"slots": 3},
                          "prompts": {"scheme": "iis"}, "train": {"hidden": [16]}})
    states = stack_slots(list(Conditions(scenario, 0).slots()))
    assert not states.allows_common_phase
    for mode in ("paper", "default"):
        controller = HidController(scenario.with_values({"train.mode": mode}))
        d = controller.act(states, greedy=False, generator=torch.Generator().manual_seed(0))
        assert (d.x == 0).all()


def test_gae_with_gamma_zero_is_reward_minus_value() -> None:
    rewards = np.array([[[1.0, 2.0, 3.0]]])
    values = np.array([[[0.5, 0.5, 0.5]]])
    adv, ret = gae(rewards, values, 0.0, 0.95)
    np.testing.assert_allclose(adv, rewards - values)
    np.testing.assert_allclose(ret, rewards)


def test_gae_bootstraps_the_value_after_a_time_limit_by_hand() -> None:
    """gamma 0.9, lambda 0.95, rewards (1, 2, 3), values (0.5, 1, 1.5), value 2 after the
    last step. delta_2 = 3 + 0.9 * 2 - 1.5 = 3.3; delta_1 = 2 + 0.9 * 1.5 - 1 = 2.35;
    delta_0 = 1 + 0.9 * 1 - 0.5 = 1.4; A_t = delta_t + 0.855 A_{t+1}."""
    rewards = np.array([[1.0, 2.0, 3.0]])
    values = np.array([[0.5, 1.0, 1.5]])
    adv, ret = gae(rewards, values, 0.9, 0.95, last_values=np.array([2.0]))
    a_2 = 3.3
    a_1 = 2.35 + 0.855 * a_2                                     # 5.1715
    a_0 = 1.4 + 0.855 * a_1                                      # 5.8216325
    np.testing.assert_allclose(adv, [[a_0, a_1, a_2]], rtol=1e-12)
    np.testing.assert_allclose(ret, [[6.3216325, 6.1715, 4.8]], rtol=1e-12)
    # a terminal end: delta_2 = 3 - 1.5
    terminal, _ = gae(rewards, values, 0.9, 0.95)
    np.testing.assert_allclose(terminal[0, 2], 1.5, rtol=1e-12)
    np.testing.assert_allclose(terminal[0, 0], 1.4 + 0.855 * (2.35 + 0.855 * 1.5), rtol=1e-12)



def test_reward_scaling_is_gymnasium_normalize_reward() -> None:
    rng = np.random.default_rng(0)
    gamma, eps = 0.99, 1e-8
    rewards = rng.normal(1.0, 2.0, size=(2, 30))          # two episodes of 30 steps
    scaler = RewardScaler(1, gamma)
    ours = np.concatenate([scaler.scale_episode(ep[None, None], np.ones((1, 1, 30), bool))[0, 0]
                           for ep in rewards])
    rms, expected = RunningMeanStd(shape=()), []
    for episode in rewards:
        ret = 0.0
        for r in episode:
            ret = ret * gamma + r
            rms.update(np.array([ret]))
            expected.append(r / np.sqrt(rms.var + eps))
    np.testing.assert_allclose(ours, expected, rtol=1e-10)
