"""Benchmark: the package's `fit` against a bare hand-written training loop.

Both train the same small CNN from the same initial weights on the same batches
for the same number of steps; the script prints both times (best of a few
repeats) and the overhead of `fit`. Run with `make bench` (one CPU thread).
"""

from __future__ import annotations

import copy
import statistics
import time

import torch
from torch import nn

from cvbook import data, device, train

EPOCHS = 3
REPEATS = 5


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def hand_loop(model, loader, epochs):
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
    return float(loss.detach())


def with_fit(model, loader, epochs):
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = train.fit(model, loader, optimizer=opt, epochs=epochs, device="cpu", progress=False)
    return history.last("train_loss")


def main() -> None:
    device.seed_everything(0)
    ds = data.load_digits("train", size=28)
    batches = list(data.make_loader(ds, 64, shuffle=True, seed=0))  # identical batches for both
    reference = small_cnn()
    times = {"hand-written loop": [], "cvbook.train.fit": []}
    for _ in range(REPEATS):
        for name, runner in (("hand-written loop", hand_loop), ("cvbook.train.fit", with_fit)):
            model = copy.deepcopy(reference)
            start = time.perf_counter()
            runner(model, batches, EPOCHS)
            times[name].append(time.perf_counter() - start)
    steps = EPOCHS * len(batches)
    print(
        f"{steps} steps of a small CNN on 28x28 digits, {torch.get_num_threads()} thread(s), "
        f"best and median of {REPEATS} repeats"
    )
    for name, values in times.items():
        print(f"  {name:18s} best {min(values):6.3f} s   median {statistics.median(values):6.3f} s")
    ratio = min(times["cvbook.train.fit"]) / min(times["hand-written loop"])
    print(f"  overhead of fit: {100 * (ratio - 1):+.1f} % (aim: <= 5 %)")


if __name__ == "__main__":
    main()
