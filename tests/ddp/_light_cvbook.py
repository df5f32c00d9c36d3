"""Import ``cvbook`` in the test's child processes without running ``cvbook/__init__.py``.

The package's ``__init__`` imports every module (torchvision, scikit-image, matplotlib, ...),
about 4-5 s of CPU per process on the test machine; the distributed tests start six such
processes. The children need only ``cvbook.train``, ``cvbook.data`` and ``cvbook.device``,
so they register a bare package object with the package's path: ``from cvbook import train``
then loads the real ``train.py`` (and what it imports) and nothing else. Importing this
module in a process that already imported ``cvbook`` changes nothing.
"""

import importlib.util
import sys
import types

if "cvbook" not in sys.modules:
    _spec = importlib.util.find_spec("cvbook")
    _package = types.ModuleType("cvbook")
    _package.__path__ = list(_spec.submodule_search_locations)
    _package.__file__ = _spec.origin
    sys.modules["cvbook"] = _package
