"""Helpers the exercise notebooks' tests use (they are visible to students too).

* :func:`expect_error` - the code in the ``with`` block must raise a given error;
* :func:`refusing` - inside the ``with`` block, named library functions raise, so a test
  can check that an answer computes a result itself instead of calling the library;
* :func:`zero_parameters` - set every parameter of a module to zero.

Used by every chapter's exercises (``solutions/`` and ``exercises/``).
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["expect_error", "refusing", "zero_parameters"]


@contextmanager
def expect_error(error, why):
    """Used by the tests: the code inside the `with` block must raise `error`."""
    try:
        yield
    except error:
        return
    raise AssertionError(f"expected a {error.__name__} for {why}, but nothing was raised")


@contextmanager
def refusing(*names):
    """Used by the tests: inside the `with` block, calling one of the named library
    functions (such as "torch.nn.functional.conv2d") raises an AssertionError."""
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
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
    return module
