"""A training that writes a checkpoint every epoch: the target of the SIGKILL resume test.

Usage: python tests/ddp/resume_run.py CHECKPOINT EPOCHS WEIGHTS_OUT

tests/test_distributed.py starts it, kills it with SIGKILL once the checkpoint holds
two epochs, starts it again (it resumes from the checkpoint) and compares the weights it
saves at the end with those of :func:`run` called without interruption. The model has
dropout and batch norm, the loader shuffles, the optimiser has momentum state and the
learning rate a schedule, so every piece of state the checkpoint keeps matters.
"""

from __future__ import annotations

import sys

import _light_cvbook  # noqa: F401  (before cvbook: skips cvbook/__init__'s imports)
import torch
from torch import nn

from cvbook import data, device, train


def run(epochs: int, checkpoint=None) -> nn.Module:
    """Train a small CNN on the 8x8 digits for ``epochs`` epochs (resuming from ``checkpoint``)."""
    device.seed_everything(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(8 * 4 * 4, 10),
    )
    loader = data.make_loader(data.load_digits("train"), 32, shuffle=True, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    train.fit(
        model,
        loader,
        optimizer=optimizer,
        scheduler=scheduler,
        epochs=epochs,
        device="cpu",
        progress=False,
        checkpoint=checkpoint,
    )
    return model


if __name__ == "__main__":
    torch.set_num_threads(1)
    path, epochs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    torch.save(run(epochs, path).state_dict(), out)
