"""Benchmark: the package's `fit` against a bare hand-written training loop.

CPU mode (default): both train the same small CNN from the same initial weights on
the same batches for the same number of steps; the script prints both times (best of
a few repeats) and the overhead of `fit`. Run with `make bench` (one CPU thread).

CUDA mode (``--cuda``, also run by `make bench`): a ResNet-18 on 64x64 images, trained
by `fit` (mixed precision, ``channels_last``, pinned memory and non-blocking copies)
and by a hand-tuned mixed-precision loop doing the same, with the same loader; the
script prints images/second for both (best of a few repeats, after a warm-up epoch)
and their ratio. Without a CUDA GPU it prints that it skipped and exits 0.
``--device cpu`` runs the CUDA comparison on the CPU (float32), to check the script.
"""

from __future__ import annotations

import argparse
import contextlib
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


def cpu_main() -> None:
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


# --------------------------------------------------------------------------- CUDA mode


def resnet18(num_classes: int = 10) -> nn.Module:
    from torchvision.models import resnet18 as tv_resnet18

    return tv_resnet18(num_classes=num_classes)


def random_images(n: int, size: int, seed: int = 0) -> torch.utils.data.TensorDataset:
    g = torch.Generator().manual_seed(seed)
    return torch.utils.data.TensorDataset(
        torch.rand(n, 3, size, size, generator=g), torch.randint(0, 10, (n,), generator=g)
    )


def tuned_loop(model, loader, epochs, dev: torch.device) -> float:
    """What an expert writes by hand: AMP (with a scaler for float16), channels_last, async copies."""
    dtype = train.amp_dtype(dev)
    model.to(dev, memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    loss_fn = nn.CrossEntropyLoss()
    autocast = (lambda: torch.autocast("cuda", dtype=dtype)) if dtype is not None else contextlib.nullcontext
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            x = x.to(dev, non_blocking=True, memory_format=torch.channels_last)
            y = y.to(dev, non_blocking=True)
            with autocast():
                loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
    return float(loss.detach())


def fit_tuned(model, loader, epochs, dev: torch.device) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = train.fit(
        model,
        loader,
        optimizer=opt,
        epochs=epochs,
        device=dev,
        amp=True,
        channels_last=dev.type == "cuda",
        progress=False,
        metrics={},  # the loss only: the hand-tuned loop tracks no accuracy either
    )
    return history.last("train_loss")


def cuda_main(device_name: str, images: int, size: int, batch: int, epochs: int, repeats: int) -> None:
    dev = torch.device(device_name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        print("bench --cuda: skipped, no CUDA GPU on this machine (the CPU comparison above still ran)")
        return
    device.seed_everything(0, deterministic=False)
    torch.backends.cudnn.benchmark = True  # both runners get the tuned convolution kernels
    loader = data.make_loader(random_images(images, size), batch, shuffle=True, seed=0, device=dev, drop_last=True)
    reference = resnet18()

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    rates: dict[str, list[float]] = {"hand-tuned AMP loop": [], "cvbook.train.fit": []}
    runners = {"hand-tuned AMP loop": tuned_loop, "cvbook.train.fit": fit_tuned}
    for runner in runners.values():  # warm-up: cuDNN autotuning, allocator, lazy init
        runner(copy.deepcopy(reference), loader, 1, dev)
    for _ in range(repeats):
        for name, runner in runners.items():
            model = copy.deepcopy(reference)
            sync()
            start = time.perf_counter()
            runner(model, loader, epochs, dev)
            sync()
            rates[name].append(epochs * len(loader) * batch / (time.perf_counter() - start))
    what = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU (script check only)"
    print(
        f"ResNet-18, {size}x{size} images, batch {batch}, {epochs} epoch(s) of {len(loader)} steps on "
        f"{what}; autocast {train.amp_dtype(dev)}, best and median of {repeats} repeats"
    )
    for name, values in rates.items():
        print(f"  {name:20s} best {max(values):9.0f} images/s   median {statistics.median(values):9.0f} images/s")
    ratio = max(rates["cvbook.train.fit"]) / max(rates["hand-tuned AMP loop"])
    print(f"  fit / hand-tuned: {ratio:.3f} (aim: >= 0.95)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuda", action="store_true", help="GPU mode: fit vs a hand-tuned AMP loop")
    parser.add_argument("--device", default="cuda", help="device of the --cuda mode (cpu: check the script)")
    parser.add_argument("--images", type=int, default=8192)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.cuda:
        cuda_main(args.device, args.images, args.size, args.batch, args.epochs, args.repeats)
    else:
        cpu_main()


if __name__ == "__main__":
    main()
