"""Self-labelling: the labels are the best sample's decisions, training runs end to end and
saves a model that decides exactly as the trained network; the conflict policy sees rivals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.methods import load_any_model
from agents.policies import ConflictNetwork
from agents.sampling import sample_shop
from agents.self_label import SelfLabelConfig, best_trajectory, load_network, main, parse_sizes, save_model, train
from twin.envs.observation import JOB_PROCESS_TIME, JOB_REMAINING_WORK, Layout
from twin.envs.shop import ShopBatch
from twin.jobshop.instances import generate_instance


def test_the_labels_replay_the_best_sample() -> None:
    torch.manual_seed(0)
    net = ConflictNetwork(4, 6)
    instance = generate_instance(7, 5, seed=2)
    makespans, (obs, masks, actions) = best_trajectory(net, instance, 12, np.random.default_rng(1))
    assert len(set(makespans.tolist())) > 1
    shop = ShopBatch(instance, 1, "active")
    for step, action in enumerate(actions):
        assert np.array_equal(shop.observe(instance.n_jobs)[0], obs[step])
        assert np.array_equal(shop.action_masks(instance.n_jobs)[0], masks[step]) and masks[step, action]
        shop.step(np.array([action]))
    assert shop.done[0] and shop.makespan[0] == makespans.min()


def test_training_end_to_end_saves_a_model_that_decides_as_the_network(tmp_path: Path) -> None:
    config = SelfLabelConfig(
        budget_s=120, samples=8, sizes=((6, 4), (8, 5)), validation=(6, 4, 2), validate_every=4, max_instances=8
    )
    net, card = train(config)
    assert card["instances"] == 8 and card["labelled_decisions"] > 8 * 5
    assert [point["instances"] for point in card["validation_curve"]] == [0, 4, 8]
    assert card["best_validation"] == min(point["score"] for point in card["validation_curve"])
    path = save_model(net, card, tmp_path / "model", "tiny")
    assert json.loads((tmp_path / "model" / "model_card.json").read_text())["name"] == "tiny"
    model = load_any_model(path)
    instance = generate_instance(9, 6, seed=5)
    greedy, _ = best_trajectory(net, instance, 1, np.random.default_rng(0), greedy=True)
    assert sample_shop(model, instance, 1, 0, "active", greedy=True).makespan == greedy[0]


def test_training_continues_from_a_saved_model_in_batches(tmp_path: Path) -> None:
    tiny = SelfLabelConfig(samples=4, sizes=((6, 4),), validation=(6, 4, 2), validate_every=4, max_instances=4)
    net, card = train(tiny)
    path = save_model(net, card, tmp_path / "first", "first")
    loaded = load_network(path).state_dict()
    assert all(torch.equal(loaded[name], value) for name, value in net.state_dict().items())
    more = SelfLabelConfig(
        samples=4, sizes=((6, 4),), validation=(6, 4, 2), validate_every=4, max_instances=4, batch=2, init=str(path)
    )
    _, continued = train(more)
    assert continued["validation_curve"][0]["score"] == card["best_validation"]  # it starts where the first ended
    assert continued["config"]["init"] == str(path) and continued["config"]["batch"] == 2
    with pytest.raises(ValueError, match="batch must be >= 1"):
        train(SelfLabelConfig(batch=0))
    zoo = Path(__file__).resolve().parents[2] / "agents" / "zoo" / "jobshop_10x10" / "model.zip"
    with pytest.raises(ValueError, match="no conflict-aware policy"):
        load_network(zoo)


def test_the_command_line_reads_sizes_and_refuses_bad_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_sizes("20x15, 30x20") == ((20, 15), (30, 20))
    for bad in (["--sizes", "20x1"], ["--sizes", "20by15"], ["--validation", "0"]):
        with pytest.raises(SystemExit) as stopped:
            main([str(tmp_path / "out"), "--minutes", "0", *bad])
        assert stopped.value.code == 2
        assert ("--sizes" in bad) == ("is not JOBSxMACHINES" in capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def _queue(times: tuple[float, ...], slots: int) -> torch.Tensor:
    layout = Layout(2, slots)
    obs = torch.zeros(1, layout.size)
    for slot, p in enumerate(times):
        base = layout.candidate(slot)
        obs[0, base] = 1.0
        obs[0, base + JOB_PROCESS_TIME] = p
        obs[0, base + JOB_REMAINING_WORK] = 2 * p
    return obs


def _scores(net: ConflictNetwork, times: tuple[float, ...], slots: int) -> torch.Tensor:
    net.max_queue, net.layout = slots, Layout(2, slots)
    with torch.no_grad():
        return net.forward_actor(_queue(times, slots))[0]


def test_the_conflict_policy_is_equivariant_and_blind_to_empty_slots() -> None:
    """Scores follow the candidates when they are reordered, empty slots change nothing, and
    a candidate's score moves with its rivals."""
    torch.manual_seed(0)
    net = ConflictNetwork(2, 3)
    scores = _scores(net, (0.5, 0.2, 0.8), 3)
    assert torch.allclose(_scores(net, (0.8, 0.5, 0.2), 3), scores[[2, 0, 1]], atol=1e-6)
    assert torch.allclose(_scores(net, (0.5, 0.2, 0.8), 6)[:3], scores, atol=1e-6)
    assert not torch.isclose(_scores(net, (0.5, 0.1, 0.9), 3)[0], scores[0])
