"""``@record``: a frozen, slotted dataclass that costs nothing to define.

``@dataclass`` writes and compiles up to six methods per class while its module is imported,
about 1 ms a class: 83-113 ms of every ``s3z-core`` start, for classes that command mostly
never builds. A record is still a real dataclass (``fields``, ``replace``, ``asdict`` work),
made by ``dataclass`` with the methods turned off. Equality, hashing, ``repr``, frozenness and
pickling are shared functions over names each class lays out once; ``__init__`` is written
and compiled when its class is first instantiated (or its signature asked for), as
specialised as dataclass's and faster per call (a frozen one stores through the slots).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import MISSING, Field, FrozenInstanceError
from operator import attrgetter
from types import MemberDescriptorType, MethodType
from typing import Any, ClassVar, Protocol, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")
_Values = Callable[[object], tuple[Any, ...]]


class _Factory:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"  # a parameter whose field has a default_factory, as dataclass shows it


_FACTORY = _Factory()


def _values(names: tuple[str, ...]) -> _Values:
    if len(names) > 1:
        return attrgetter(*names)
    if names:  # attrgetter of one name returns the value, not a 1-tuple
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


class _Layout:
    """What the shared methods need of one class, worked out once when it is decorated."""

    __slots__ = ("compared", "frozen", "hashed", "names", "show", "shown", "values")

    def __init__(self, fields: tuple[Field[Any], ...], frozen: bool) -> None:
        self.frozen = frozen
        self.names = tuple(f.name for f in fields)
        self.values = _values(self.names)
        self.compared = _values(tuple(f.name for f in fields if f.compare))
        hashed = (f for f in fields if (f.compare if f.hash is None else f.hash))
        self.hashed = _values(tuple(f.name for f in hashed))
        self.shown = tuple(f.name for f in fields if f.repr)  # never a repr=False secret
        self.show = _values(self.shown)


class _Record(Protocol):
    __record__: ClassVar[_Layout]


def _eq(self: _Record, other: object) -> object:  # a bool, or NotImplemented
    if other.__class__ is self.__class__:
        compared = self.__record__.compared
        return compared(self) == compared(other)
    return NotImplemented


def _hash(self: _Record) -> int:
    return hash(self.__record__.hashed(self))


_repr_running: set[tuple[int, int]] = set()


def _repr(self: _Record) -> str:
    key = (id(self), threading.get_ident())
    if key in _repr_running:  # a record that contains itself
        return "..."
    _repr_running.add(key)
    try:
        layout = self.__record__
        inner = ", ".join(map("{}={!r}".format, layout.shown, layout.show(self)))
    finally:
        _repr_running.discard(key)
    return f"{type(self).__qualname__}({inner})"


def _frozen(self: _Record, name: str) -> bool:
    # A plain subclass (no record itself) may set attributes of its own, as with dataclass.
    return "__record__" in type(self).__dict__ or name in self.__record__.names


def _frozen_setattr(self: _Record, name: str, value: object) -> None:
    if _frozen(self, name):
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _frozen_delattr(self: _Record, name: str) -> None:
    if _frozen(self, name):
        raise FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


def _getstate(self: _Record) -> list[Any]:
    return list(self.__record__.values(self))  # dataclass's state: the same pickles


def _setstate(self: _Record, state: list[Any]) -> None:
    for name, value in zip(self.__record__.names, state, strict=True):
        object.__setattr__(self, name, value)


def _compile_init(cls: type[Any]) -> Callable[..., None]:
    """The ``__init__`` dataclass would write for ``cls``."""
    fields = dataclasses.fields(cls)
    this = "__record_self__" if "self" in cls.__dataclass_fields__ else "self"
    ns: dict[str, Any] = {"__name__": cls.__module__, "_FACTORY": _FACTORY}
    params, keyword, body = [this], ["*"], []
    for f in fields:
        value, default = f.name, ""
        if f.default_factory is not MISSING:
            ns[f"_fac_{f.name}"], default = f.default_factory, "=_FACTORY"
            made = f"_fac_{f.name}()"
            value = f"{made} if {f.name} is _FACTORY else {f.name}" if f.init else made
        elif f.default is not MISSING:
            ns[f"_dflt_{f.name}"], default = f.default, f"=_dflt_{f.name}"
            value = f.name if f.init else f"_dflt_{f.name}"
        elif not f.init:
            continue  # field(init=False) without a default: __post_init__ sets it, or nobody
        if f.init:
            (keyword if f.kw_only else params).append(f.name + default)
        if not cls.__record__.frozen:
            body.append(f"{this}.{f.name} = {value}")
        elif isinstance(slot := getattr(cls, f.name, None), MemberDescriptorType):
            ns[f"_set_{f.name}"] = slot.__set__  # the slot itself: no __setattr__ to get past
            body.append(f"_set_{f.name}({this}, {value})")
        else:  # a field of a base that keeps its values in a __dict__
            ns["_set"] = object.__setattr__
            body.append(f"_set({this}, {f.name!r}, {value})")
    if hasattr(cls, "__post_init__"):
        body.append(f"{this}.__post_init__()")
    signature = ", ".join(params + (keyword if len(keyword) > 1 else []))
    source = f"def __init__({signature}):\n" + "".join(f" {line}\n" for line in body or ["pass"])
    exec(compile(source, f"<record {cls.__qualname__}>", "exec"), ns)  # noqa: S102 (our text)
    init: Callable[..., None] = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {f.name: f.type for f in fields if f.init} | {"return": None}
    return init


class _LazyInit:
    """A record's ``__init__`` until something asks for it: then it compiles the real one and
    puts it in its place on the class, so only the first instance pays."""

    __slots__ = ("owner",)

    def __init__(self, owner: type[Any]) -> None:
        self.owner = owner

    def __get__(self, obj: object, objtype: type[Any] | None = None) -> Callable[..., None]:
        init = _compile_init(self.owner)
        type.__setattr__(self.owner, "__init__", init)
        return init if obj is None else MethodType(init, obj)


def _check(cls: type[Any], fields: tuple[Field[Any], ...], frozen: bool) -> None:
    """What dataclass refuses while writing the methods a record writes differently."""
    if any("InitVar" in str(f.type) for f in cls.__dataclass_fields__.values()):
        raise TypeError(f"{cls.__qualname__}: a record has no InitVar; use a dataclass")
    for name in ("__setattr__", "__delattr__"):
        if frozen and name in cls.__dict__:
            raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    for base in cls.__mro__[1:-1]:
        if "__dataclass_fields__" in base.__dict__:
            layout = base.__dict__.get("__record__")
            if (layout.frozen if layout else vars(base)["__dataclass_params__"].frozen) != frozen:
                this, that = ("frozen", "non-frozen") if frozen else ("non-frozen", "frozen")
                raise TypeError(f"cannot inherit {this} dataclass from a {that} one")
    defaulted = False
    for f in fields:
        if f.init and not f.kw_only:
            if f.default is not MISSING or f.default_factory is not MISSING:
                defaulted = True
            elif defaulted:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")


@overload
def record(cls: type[_T], /) -> type[_T]: ...
@overload
def record(
    *, frozen: bool = True, eq: bool = True, kw_only: bool = False
) -> Callable[[type[_T]], type[_T]]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, Field))
def record(
    cls: type[_T] | None = None, /, *, frozen: bool = True, eq: bool = True, kw_only: bool = False
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """``@dataclass(frozen=True, slots=True)`` without the import-time cost (``frozen=False``:
    a mutable one, ``eq=False``: compared by identity)."""

    def decorate(cls: type[_T]) -> type[_T]:
        own = cls.__dict__
        explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
        documented = bool(cls.__doc__)
        cls.__doc__ = cls.__doc__ or cls.__name__  # spares dataclass's inspect.signature(cls)
        made = dataclasses.dataclass(
            cls, init=False, repr=False, eq=False, kw_only=kw_only, slots=True
        )
        fields = dataclasses.fields(made)  # type: ignore[arg-type]  # a dataclass by now
        _check(made, fields, frozen)
        if not documented:
            made.__doc__ = f"{made.__name__}({', '.join(f.name for f in fields if f.init)})"
        methods: dict[str, object] = {"__init__": _LazyInit(made), "__repr__": _repr}
        if eq:
            methods["__eq__"] = _eq
        if frozen:
            methods |= {"__setattr__": _frozen_setattr, "__delattr__": _frozen_delattr}
            methods |= {"__getstate__": _getstate, "__setstate__": _setstate}
        for name, method in methods.items():
            if name not in made.__dict__:  # the class's own methods win, as with dataclass
                type.__setattr__(made, name, method)
        if eq and not explicit_hash:
            type.__setattr__(made, "__hash__", _hash if frozen else None)
        type.__setattr__(made, "__record__", _Layout(fields, frozen))
        return made

    return decorate if cls is None else decorate(cls)
