"""Make bacpypes3's decoding cheaper without changing what it does.

`Sequence.__init__` (bacpypes3/constructeddata.py) asks `inspect.getattr_static(self, attr)` for every
element not given, to skip elements defined as properties: ~30 calls per decoded answer, and the slowest
thing the agent did per reading (~25% of its CPU polling 100 meters). At that moment the instance holds none
of those attributes, so the answer depends on the class alone: the module's `inspect` is given a
`getattr_static` that remembers it per (class, attribute). Everything else is the real `inspect`.
"""

import inspect
import types
from functools import lru_cache

_MISSING = object()


@lru_cache(maxsize=4096)
def _class_attribute(cls: type, attr: str):
    try:
        return inspect.getattr_static(cls, attr)
    except AttributeError:
        return _MISSING


def _getattr_static(obj, attr: str, *default):
    """inspect.getattr_static for the one use in Sequence.__init__: looked up on the class, remembered."""
    if attr in getattr(obj, "__dict__", {}) or isinstance(obj, type):
        return inspect.getattr_static(obj, attr, *default)
    found = _class_attribute(type(obj), attr)
    if found is _MISSING:
        if default:
            return default[0]
        raise AttributeError(attr)
    return found


def install() -> None:
    """Give bacpypes3.constructeddata the remembering getattr_static (idempotent)."""
    from bacpypes3 import constructeddata

    if isinstance(constructeddata.inspect, types.ModuleType):
        shim = types.SimpleNamespace(
            **{n: getattr(inspect, n) for n in dir(inspect) if not n.startswith("__")}
        )
        shim.getattr_static = _getattr_static
        constructeddata.inspect = shim
