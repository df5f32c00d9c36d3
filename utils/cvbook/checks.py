"""Helpers the exercise notebooks' tests use (they are visible to students too).

* :func:`expect_error` - the code in the ``with`` block must raise a given error;
* :func:`refusing` - inside the ``with`` block, named library functions raise, so a test
  can check that an answer computes a result itself instead of calling the library;
* :func:`zero_parameters` - set every parameter of a module to zero;
* :func:`randomize_parameters` - random weights and batch-norm statistics, so that a
  misplaced layer in a student's module changes its output;
* :func:`load_into_reference` - load a student's module into the package's reference
  implementation, with a readable error when names or shapes differ.

Used by every chapter's exercises (``solutions/`` and ``exercises/``).
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["expect_error", "refusing", "zero_parameters", "randomize_parameters", "load_into_reference"]


@contextmanager
def expect_error(error, why):
    """Used by the tests: the code inside the `with` block must raise `error`."""
    if not (isinstance(error, type) and issubclass(error, BaseException)):
        raise ValueError(f"error must be an exception class such as ValueError, got {error!r}")
    try:
        yield
    except error:
        return
    raise AssertionError(f"expected a {error.__name__} for {why}, but nothing was raised")


@contextmanager
def refusing(*names):
    """Used by the tests: inside the `with` block, calling one of the named library
    functions (such as "torch.nn.functional.conv2d") raises an AssertionError."""
    if not names or not all(isinstance(n, str) and "." in n for n in names):
        raise ValueError(f"names must be one or more dotted names such as 'torch.nn.functional.conv2d', got {names!r}")
    saved = []
    try:
        for name in names:
            module_name, attribute = name.rsplit(".", 1)
            module = importlib.import_module(module_name)
            saved.append((module, attribute, getattr(module, attribute)))

            def refused(*args, _name=name, **kwargs):
                raise AssertionError(f"your code called {_name}: compute the result yourself")

            setattr(module, attribute, refused)
        yield
    finally:
        for module, attribute, original in reversed(saved):
            setattr(module, attribute, original)


def zero_parameters(module: nn.Module) -> nn.Module:
    """Used by the tests: set every weight, bias and batch-norm scale and shift of `module` to 0."""
    if not isinstance(module, nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
    return module


def randomize_parameters(
    module: nn.Module,
    generator: torch.Generator,
    *,
    conv_scale: float = 0.3,
    gamma_scale: float = 1.0,
    beta_scale: float = 1.0,
) -> nn.Module:
    """Used by the tests: random conv weights and batch-norm scales, shifts and running statistics.

    Conv weights ~ N(0, conv_scale^2); BN gamma ~ U(0.5, 0.5 + gamma_scale), beta ~
    N(0, beta_scale^2), running mean ~ N(0, 0.04), running var ~ U(0.5, 1.5).
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * conv_scale)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.num_features, generator=generator) * gamma_scale + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=generator) * beta_scale)
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
    return module


def load_into_reference(reference: nn.Module, module: nn.Module, what: str) -> nn.Module:
    """Used by the tests: load ``module``'s state into ``reference`` (same names and shapes required)."""
    try:
        reference.load_state_dict(module.state_dict())
    except RuntimeError as err:
        raise AssertionError(
            f"{what}: its layers do not have the names and shapes the exercise asks for:\n{err}"
        ) from None
    return reference
