import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cvbook import checks


def test_expect_error():
    with checks.expect_error(ValueError, "a bad value"):
        raise ValueError("bad")
    with pytest.raises(AssertionError, match="expected a ValueError for a bad value"):
        with checks.expect_error(ValueError, "a bad value"):
            pass
    with pytest.raises(KeyError):  # other errors pass through
        with checks.expect_error(ValueError, "x"):
            raise KeyError("k")


def test_refusing_blocks_and_restores():
    x, w = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3)
    original = F.conv2d
    with checks.refusing("torch.nn.functional.conv2d"):
        with pytest.raises(AssertionError, match="your code called torch.nn.functional.conv2d"):
            F.conv2d(x, w)
    assert F.conv2d is original and F.conv2d(x, w).shape == (1, 1, 2, 2)


def test_zero_parameters():
    m = checks.zero_parameters(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)))
    assert all(float(p.abs().sum()) == 0 for p in m.parameters())


def test_randomize_and_load_into_reference():
    from cvbook import models

    g = torch.Generator().manual_seed(0)
    block = checks.randomize_parameters(models.BasicBlock(4, 4), g)
    bn = block.body[1]
    assert float(bn.weight.min()) >= 0.5 and float(bn.running_var.min()) >= 0.5
    ref = checks.load_into_reference(models.BasicBlock(4, 4), block, "block")
    block.eval(), ref.eval()
    x = torch.rand(1, 4, 5, 5)
    assert torch.equal(ref(x), block(x))
    with pytest.raises(AssertionError, match="wrong: its layers do not have the names"):
        checks.load_into_reference(models.BasicBlock(4, 8), block, "wrong")
