"""One registry per kind of component: names to factories, filled lazily from entry points.

A registry learns names two ways: from its entry-point group (read on first
use, importing nothing) and from :meth:`Registry.register` (a decorator or a
plain call, for components defined in the user's own code). A plugin module
is imported only when one of its components is first looked up, so a broken
plugin costs nothing until it is used, and then fails with its real cause
chained.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from gst_core.discovery import discover
from gst_core.errors import (
    ComponentArgumentError,
    ComponentTypeError,
    DuplicateComponentError,
    GstError,
    PluginLoadError,
    SpecError,
    UnknownComponentError,
)

__all__ = ["Entry", "Registry"]

T = TypeVar("T")
Factory = Callable[..., Any]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Entry:
    """What a registry knows about one name, loaded or not."""

    name: str
    kind: str
    target: str  # "module:attr"
    distribution: str | None = None  # None: registered at run time
    version: str | None = None
    load: Callable[[], Any] | None = field(default=None, repr=False)
    obj: Any = field(default=None, repr=False)
    error: BaseException | None = field(default=None, repr=False)
    conflicts_with: list[Entry] = field(default_factory=list, repr=False)

    @property
    def source(self) -> str:
        """Where the name comes from, e.g. ``gst-toolkit 0.2.0 (gst_plugins.x:Y)``."""
        if self.distribution is None:
            return f"registered at run time ({self.target})"
        return f"{self.distribution} {self.version} ({self.target})"

    @property
    def status(self) -> str:
        """``ok``, ``broken``, ``conflict`` or ``not loaded``."""
        if self.conflicts_with:
            return "conflict"
        if self.error is not None:
            return "broken"
        if self.obj is not None:
            return "ok"
        return "not loaded"


class Registry(Generic[T]):
    """Names of one kind of component, mapped to the factories that build them."""

    def __init__(self, kind: str, interface: type[T], group: str) -> None:
        self.kind = kind
        self.interface = interface
        self.group = group
        self._entries: dict[str, Entry] = {}
        self._discovered = False

    def __repr__(self) -> str:
        return f"Registry(kind={self.kind!r}, group={self.group!r})"

    # -- filling ---------------------------------------------------------

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for found in discover(self.group):
            entry = Entry(
                name=found.name,
                kind=self.kind,
                target=found.target,
                distribution=found.distribution,
                version=found.version,
                load=found.entry_point.load,
            )
            if not _NAME.match(entry.name):
                entry.error = ValueError(
                    f"entry point name {entry.name!r} in group {self.group!r} is not "
                    "lowercase snake_case; rename it in the plugin's pyproject.toml"
                )
            existing = self._entries.get(entry.name)
            if existing is None:
                self._entries[entry.name] = entry
            else:
                # Nothing is silently overwritten: the name becomes unusable
                # until one distribution renames or is uninstalled.
                existing.conflicts_with.append(entry)

    def register(self, obj: Factory | None = None, *, name: str | None = None) -> Any:
        """Register a component class or factory function under ``name``.

        Use as ``@registry.register``, ``@registry.register(name="x")`` or
        ``registry.register(MyModule, name="x")``. The name defaults to the
        object's ``__name__`` in lowercase.
        """

        def add(target: Factory) -> Factory:
            key = name if name is not None else target.__name__.lower()
            if not _NAME.match(key):
                raise ValueError(
                    f"{self.kind} name {key!r} is not lowercase snake_case "
                    "(letters, digits and '_', starting with a letter); pass name='...'"
                )
            self._check_loaded(key, target, where=f"{target.__module__}:{target.__qualname__}")
            self._discover()
            where = f"{target.__module__}:{target.__qualname__}"
            existing = self._entries.get(key)
            if existing is not None and existing.target != where:
                raise DuplicateComponentError(
                    f"{self.kind} {key!r} is already registered by {existing.source}; "
                    f"refusing to replace it with {where}. Register under another name."
                )
            self._entries[key] = Entry(name=key, kind=self.kind, target=where, obj=target)
            return target

        if obj is None:
            return add
        return add(obj)

    # -- looking up ------------------------------------------------------

    def entries(self, pattern: str = "*") -> list[Entry]:
        """Every entry whose name matches the glob ``pattern``, sorted by name."""
        self._discover()
        return [self._entries[n] for n in sorted(self._entries) if fnmatch.fnmatch(n, pattern)]

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching the glob ``pattern``, sorted. Imports nothing."""
        return [e.name for e in self.entries(pattern)]

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def entry(self, name: str) -> Entry:
        """The entry for ``name``; raises with close matches if unknown."""
        self._discover()
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownComponentError(self._unknown_message(name)) from None

    def _unknown_message(self, name: str) -> str:
        known = sorted(self._entries)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        message = f"unknown {self.kind} {name!r}"
        if close:
            message += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif known:
            message += f"; known {self.kind} components: {', '.join(known)}"
        else:
            message += f"; no {self.kind} components are installed"
        return message + " (`gst plugins list` shows every installed component)"

    def get(self, name: str) -> Factory:
        """The factory (class or function) named ``name``, importing its module if needed."""
        entry = self.entry(name)
        if entry.conflicts_with:
            sources = "\n  ".join(e.source for e in [entry, *entry.conflicts_with])
            raise DuplicateComponentError(
                f"{self.kind} {name!r} is provided by more than one distribution:\n  {sources}\n"
                "Uninstall one of them, or ask its author to rename the entry point."
            )
        if entry.obj is not None:
            return entry.obj
        if entry.error is None:
            assert entry.load is not None  # only discovered entries are unloaded
            try:
                loaded = entry.load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # any import-time failure, sys.exit() included
                entry.error = exc
            else:
                try:
                    self._check_loaded(name, loaded, where=entry.source)
                except ComponentTypeError as exc:
                    entry.error = exc
                    raise
                entry.obj = loaded
                return loaded
        if isinstance(entry.error, ComponentTypeError):
            raise entry.error
        raise PluginLoadError(
            f"{self.kind} {name!r} from {entry.source} failed to load: "
            f"{type(entry.error).__name__}: {entry.error}. "
            "Fix or uninstall that plugin; `gst plugins check` lists every failure."
        ) from entry.error

    def _check_loaded(self, name: str, obj: Any, *, where: str) -> None:
        """Reject entry points that are not a component class or factory function."""
        is_component_class = isinstance(obj, type) and issubclass(obj, self.interface)
        is_factory_function = inspect.isfunction(obj)
        if not (is_component_class or is_factory_function):
            raise ComponentTypeError(
                f"{self.kind} entry point {name!r} ({where}) loads {obj!r}, which is not a "
                f"subclass of {self.interface.__module__}.{self.interface.__qualname__} "
                f"nor a factory function returning one; point the entry point at the "
                f"component class."
            )

    # -- building --------------------------------------------------------

    def build(self, spec: str | Mapping[str, Any], /, **kwargs: Any) -> T:
        """Build a component from a name plus keyword arguments, or from a spec dict.

        ``build("dcgan", latent_dim=64)`` and ``build({"name": "dcgan",
        "latent_dim": 64})`` are the same. Keyword arguments override the spec's.
        """
        if isinstance(spec, Mapping):
            if "name" not in spec:
                raise SpecError(
                    f"{self.kind} spec {dict(spec)!r} has no 'name' key; "
                    f"write {{'name': '<{self.kind} name>', ...keyword arguments}}"
                )
            name = spec["name"]
            kwargs = {**{k: v for k, v in spec.items() if k != "name"}, **kwargs}
        else:
            name = spec
        if not isinstance(name, str):
            raise SpecError(f"{self.kind} name must be a string, got {name!r}")
        factory = self.get(name)
        try:
            inspect.signature(factory).bind(**kwargs)
        except TypeError as exc:
            raise ComponentArgumentError(
                f"{self.kind} {name!r} cannot be built with {kwargs!r}: {exc}. "
                f"Its signature is {name}{_signature_text(factory)}"
            ) from None
        try:
            component = factory(**kwargs)
        except GstError:
            raise  # the component's own message already says what to change
        except Exception as exc:  # a constructor's TypeError/ValueError or a plugin's bug
            raise ComponentArgumentError(
                f"{self.kind} {name!r} ({self.entry(name).source}) could not be built with "
                f"{kwargs!r}: {type(exc).__name__}: {exc}"
                f"{_numbers_given_as_text(factory, kwargs)}. "
                f"Its signature is {name}{_signature_text(factory)}"
            ) from exc
        if not isinstance(component, self.interface):
            raise ComponentTypeError(
                f"{self.kind} factory {name!r} ({self.entry(name).source}) returned "
                f"{type(component).__qualname__}, which is not a "
                f"{self.interface.__qualname__}; return an instance of a subclass of it."
            )
        return component


_NUMBER_ANNOTATIONS = {
    "int": "an integer",
    "float": "a number",
    int: "an integer",
    float: "a number",
}


def _numbers_given_as_text(factory: Factory, kwargs: Mapping[str, Any]) -> str:
    """`` (image_size must be an integer, but is the string '8')`` for each string where the
    signature says int/float (``image_size = "8"`` in TOML): the constructor's own error is
    a comparison deep inside it that does not say a string was given."""
    try:
        params = _signature(factory).parameters
    except (TypeError, ValueError):
        return ""
    found = []
    for key, value in kwargs.items():
        param = params.get(key)
        wanted = _NUMBER_ANNOTATIONS.get(param.annotation) if param is not None else None
        if wanted and isinstance(value, str):
            found.append(f"{key} must be {wanted}, but is the string {value!r}")
    return f" ({'; '.join(found)}: write numbers without quotes)" if found else ""


def _signature(factory: Factory) -> inspect.Signature:
    """``inspect.signature``, except that a class whose ``__init__`` is torch's own
    ``nn.Module.__init__(*args, **kwargs)`` (a component without options, e.g. ``hinge``)
    takes no arguments, rather than any (which let ``hinge bogus=1`` through to Module).

    Decided by which class defines ``__init__``, not by the function's name: once
    ``torch.compile`` has run, torch._dynamo has replaced ``Module.__init__`` by a wrapper."""
    if isinstance(factory, type):
        owner = next((c for c in factory.__mro__ if "__init__" in vars(c)), None)
        if (
            owner is not None
            and owner.__module__.startswith("torch.")
            and owner.__name__ == "Module"
        ):
            return inspect.Signature()
    return inspect.signature(factory)


def _signature_text(factory: Factory) -> str:
    try:
        return str(_signature(factory))
    except (TypeError, ValueError):
        return "(...)"
