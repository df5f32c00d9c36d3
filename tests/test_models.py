import pytest
import torch
from torch import nn

from cvbook import models


def lecture_net():
    return nn.Sequential(
        nn.Conv2d(3, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def test_summary_of_the_lecture_network():
    net = lecture_net()
    s = models.summary(net, (3, 32, 32))
    assert [r.output_shape for r in s.rows if r.kind in ("Conv2d", "MaxPool2d", "Linear")] == [
        (8, 28, 28), (8, 14, 14), (16, 10, 10), (16, 5, 5), (120,), (84,), (10,)]
    assert [r.parameters for r in s.rows if r.parameters] == [608, 3216, 48120, 10164, 850]
    assert s.row("0").activation_size == 6272 and s.row("6").activation_size == 400
    assert s.total_parameters == models.count_parameters(net) == 62958
    text = str(s)
    assert "48,120" in text and "62,958" in text and "(3, 32, 32)" in text


def test_summary_restores_mode_and_rejects_bad_shapes():
    net = nn.Sequential(nn.Linear(4, 2), nn.Dropout())
    net.train()
    models.summary(net, (4,))
    assert net.training
    with pytest.raises(ValueError, match="input_shape"):
        models.summary(net, (1, 4, 0))
    with pytest.raises(KeyError, match="no layer named"):
        models.summary(net, (4,)).row("nope")


def test_count_parameters_trainable():
    net = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    net[0].weight.requires_grad_(False)
    assert models.count_parameters(net) == 23
    assert models.count_parameters(net, trainable_only=True) == 11


def test_summary_on_meta_device():
    net = nn.Linear(3_000_000, 1000, device="meta")
    s = models.summary(net, (3_000_000,), device="meta")
    assert s.total_parameters == 3_000_001_000 and s.rows[0].output_shape == (1000,)
