import os
import random

import numpy as np
import pytest
import torch

from cvbook import device


def test_pick_device_order_on_this_machine(monkeypatch):
    monkeypatch.delenv(device.DEVICE_ENV, raising=False)
    picked = device.pick_device()
    if torch.cuda.is_available():
        assert picked.type == "cuda"
    elif device._mps_available():
        assert picked.type == "mps"
    else:
        assert picked == torch.device("cpu")


def test_pick_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.delenv(device.DEVICE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device, "_mps_available", lambda: True)
    assert device.pick_device().type == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.pick_device().type == "cuda"


def test_environment_override(monkeypatch):
    monkeypatch.setenv(device.DEVICE_ENV, "cpu")
    assert device.pick_device() == torch.device("cpu")
    assert "set by $CVBOOK_DEVICE" in device.device_report()


def test_unavailable_or_unknown_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        device.pick_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        device.pick_device("tpu-please")


def test_report_is_one_line(monkeypatch):
    monkeypatch.setenv(device.DEVICE_ENV, "cpu")
    report = device.device_report()
    assert "\n" not in report and report.startswith("cvbook: using cpu")


def test_seed_everything_repeats_python_numpy_torch():
    def draw():
        return random.random(), float(np.random.rand()), float(torch.rand(1))

    device.seed_everything(123)
    first = draw()
    device.seed_everything(123)
    assert draw() == first
    device.seed_everything(124)
    assert draw() != first
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"]


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="seed"):
        device.seed_everything(bad)


def test_in_colab_is_false_here():
    assert device.in_colab() is False


def test_device_of_reads_parameters_then_buffers_then_defaults_to_cpu():
    from torch import nn

    assert device.device_of(nn.Linear(2, 2)) == torch.device("cpu")
    assert device.device_of(nn.Linear(2, 2, device="meta")) == torch.device("meta")
    assert device.device_of(nn.BatchNorm1d(3, affine=False).to("meta")) == torch.device("meta")  # buffers only
    assert device.device_of(nn.ReLU()) == torch.device("cpu")  # nothing to hold: the CPU
    with pytest.raises(ValueError, match="module"):
        device.device_of(torch.zeros(2))
