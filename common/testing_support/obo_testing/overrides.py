"""Which methods of a package override a library's without saying so (``@override``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil


def unmarked_overrides(package: str, library: str = "authlib") -> list[str]:
    """``module.Class.method`` for each method of ``package`` that overrides one of
    ``library``'s classes and lacks ``@override``. Constructors are left out: every class
    has one, so marking them says nothing."""
    root = importlib.import_module(package)
    modules = [root, *(importlib.import_module(m.name) for m in pkgutil.walk_packages(root.__path__, package + "."))]
    unmarked = []
    for module in modules:
        for class_name, cls in vars(module).items():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            bases = [base for base in cls.__mro__[1:] if base.__module__.split(".")[0] == library]
            for name, value in vars(cls).items():
                function = value.__func__ if isinstance(value, classmethod | staticmethod) else value
                if name == "__init__" or not inspect.isfunction(function):
                    continue
                if any(name in vars(base) for base in bases) and not getattr(function, "__override__", False):
                    unmarked.append(f"{module.__name__}.{class_name}.{name}")
    return unmarked
