"""``@record`` against its oracle, ``dataclasses.dataclass``: each class is defined twice, once
with each decorator, and must behave the same (signature, defaults, factories, __post_init__,
kw_only, eq, hash, repr with repr=False, frozenness, replace/asdict, pickle and copy,
inheritance, match). And a command's imports compile no dataclass methods at all."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import pickle
import subprocess
import sys
from collections.abc import Callable
from dataclasses import FrozenInstanceError, InitVar, field
from pathlib import Path
from typing import Any

import pytest

from s3z_core.records import record

ROOT = Path(__file__).resolve().parent.parent
Decorator = Callable[[type[Any]], type[Any]]
FROZEN: list[Decorator] = [record, dataclasses.dataclass(frozen=True, slots=True)]
MUTABLE: list[Decorator] = [record(frozen=False), dataclasses.dataclass(slots=True)]


def _spec(deco: Decorator) -> type[Any]:
    @deco
    class Spec:
        name: str
        size: int = 0
        tags: tuple[str, ...] = field(default_factory=tuple)
        secret: str = field(default="", repr=False)
        note: str = field(default="n", compare=False)
        hidden: int = field(default=7, init=False)
        late: bool = field(default=False, kw_only=True)
        unhashed: int = field(default=0, hash=False)

    return Spec


def _twins(make: Callable[[Decorator], type[Any]], decos: list[Decorator]) -> tuple[Any, Any]:
    ours, oracle = (make(deco) for deco in decos)
    assert "__record__" in vars(ours)
    assert "__record__" not in vars(oracle)
    return ours, oracle


def test_the_init_signature_and_defaults_are_dataclasses() -> None:
    ours, oracle = _twins(_spec, FROZEN)
    assert str(inspect.signature(ours)) == str(inspect.signature(oracle))
    for args, kwargs in [(("a",), {}), (("a", 3, ("t",), "s"), {"late": True, "note": "x"})]:
        assert dataclasses.asdict(ours(*args, **kwargs)) == dataclasses.asdict(
            oracle(*args, **kwargs)
        )
    for bad in [(), ("a", 1, (), "", "n", 2, True)]:  # a missing one; late given by position
        for cls in (ours, oracle):
            with pytest.raises(TypeError):
                cls(*bad)
    with pytest.raises(TypeError, match="unexpected keyword argument 'hidden'"):
        ours("a", hidden=1)


def test_a_default_factory_is_called_for_each_instance() -> None:
    for deco in MUTABLE:

        @deco
        class Bag:
            items: list[int] = field(default_factory=list)
            made: list[int] = field(default_factory=lambda: [1], init=False)

        first, second = Bag(), Bag()
        first.items.append(1)
        assert second.items == []
        assert first.made == [1]
        assert first.made is not second.made
        given = [5]
        assert Bag(given).items is given


def test_eq_hash_and_repr_are_dataclasses() -> None:
    ours, oracle = _twins(_spec, FROZEN)
    a, b = ours("a", 1, ("t",), "hunter2"), oracle("a", 1, ("t",), "hunter2")
    assert repr(a) == repr(b)
    assert "hunter2" not in repr(a)
    assert "hunter2" not in str(a)
    assert hash(a) == hash(b)  # the same tuple of fields
    assert a == ours("a", 1, ("t",), "hunter2", note="other")  # compare=False
    assert a != ours("a", 2, ("t",), "hunter2")
    assert hash(a) == hash(ours("a", 1, ("t",), "hunter2", unhashed=9))  # hash=False
    assert a != b
    assert b != a
    assert a.__eq__(b) is NotImplemented
    assert {a, ours("a", 1, ("t",), "hunter2")} == {a}


def test_a_mutable_record_is_unhashable_and_eq_false_compares_identity() -> None:
    ours, oracle = _twins(_spec, MUTABLE)
    assert ours.__hash__ is None
    assert oracle.__hash__ is None
    mine = ours("a")
    mine.size = 3
    assert mine == ours("a", 3)
    assert repr(mine) == repr(oracle("a", 3))
    for deco in (record(frozen=False, eq=False), dataclasses.dataclass(eq=False, slots=True)):

        @deco
        class Piece:
            start: str

        one = Piece("a")
        assert one != Piece("a")
        assert one == one
        assert hash(one) == id(one) >> 4


def test_a_frozen_record_refuses_assignment_like_a_frozen_dataclass() -> None:
    for cls in _twins(_spec, FROZEN):
        obj = cls("a")
        with pytest.raises(FrozenInstanceError, match="cannot assign to field 'size'"):
            obj.size = 2
        with pytest.raises(FrozenInstanceError, match="cannot delete field 'size'"):
            del obj.size
        assert obj.size == 0
    # A name that is no field: the same error (Python 3.11's slotted frozen dataclass raises
    # TypeError here, from super() of the class it replaced).
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'other'"):
        _spec(record)("a").other = 2


def test_a_plain_subclass_keeps_attributes_of_its_own() -> None:
    (ours,) = [record(type("Base", (), {"__annotations__": {"x": "int"}}))]
    plain = type("Plain", (ours,), {})
    obj = plain(1)
    obj.extra = 2  # not a field: allowed, as on a plain subclass of a frozen dataclass
    assert obj.extra == 2
    with pytest.raises(FrozenInstanceError):
        obj.x = 2


def test_replace_asdict_fields_and_is_dataclass_work() -> None:
    ours, oracle = _twins(_spec, FROZEN)
    assert dataclasses.is_dataclass(ours)
    assert dataclasses.is_dataclass(ours("a"))
    names = [f.name for f in dataclasses.fields(ours)]
    assert names == [f.name for f in dataclasses.fields(oracle)]
    moved = dataclasses.replace(ours("a", 1, ("t",)), size=5, late=True)
    assert dataclasses.astuple(moved) == dataclasses.astuple(
        dataclasses.replace(oracle("a", 1, ("t",)), size=5, late=True)
    )
    with pytest.raises(ValueError, match="init=False"):
        dataclasses.replace(moved, hidden=1)


def test_post_init_runs_and_may_set_init_false_fields() -> None:
    for deco in FROZEN:

        @deco
        class Query:
            text: str
            upper: str = field(init=False, repr=False, compare=False)

            def __post_init__(self) -> None:
                if not self.text:
                    raise ValueError("empty")
                object.__setattr__(self, "upper", self.text.upper())

        assert Query("ab").upper == "AB"
        assert Query("ab") == Query("ab")
        with pytest.raises(ValueError, match="empty"):
            Query("")

    @record
    class Unset:
        left: int = field(init=False)

    with pytest.raises(AttributeError):
        _ = Unset().left  # as on a dataclass: nobody set it


def test_inheritance_orders_fields_as_dataclass_does() -> None:
    for deco in FROZEN:

        @deco
        class Base:
            transfer_id: int
            tag: str = field(default="", kw_only=True)

        @deco
        class Queued(Base):
            size: int
            spec: str | None = None

        assert str(inspect.signature(Queued)) == "(transfer_id: 'int', size: 'int', spec: " + (
            "'str | None' = None, *, tag: 'str' = '') -> None"
        )
        assert Queued.__match_args__ == ("transfer_id", "size", "spec")
        assert repr(Queued(1, 2, tag="x")).endswith(
            "Queued(transfer_id=1, tag='x', size=2, spec=None)"
        )
        assert Queued(1, 2) != Base(1)
        match Queued(7, 8, "s"):
            case Base(transfer_id):  # the base's pattern matches a subclass
                assert transfer_id == 7
        match Queued(7, 8, "s"):
            case Queued(tid, size, spec=spec):
                assert (tid, size, spec) == (7, 8, "s")
            case _:
                pytest.fail("no match")


def test_the_classes_own_methods_win() -> None:
    @record
    class Keys:
        access_key: str
        secret_key: str = field(repr=False)

        def __repr__(self) -> str:
            return f"Keys({self.access_key!r}, <redacted>)"

        def __hash__(self) -> int:
            return 1

    assert repr(Keys("id", "s")) == "Keys('id', <redacted>)"
    assert hash(Keys("id", "s")) == 1


def test_a_self_field_and_a_recursive_repr_are_handled() -> None:
    for deco in MUTABLE:

        @deco
        class Node:
            self: int
            children: list[Any] = field(default_factory=list)

        node = Node(1)
        node.children.append(node)
        assert repr(node).endswith(".<locals>.Node(self=1, children=[...])")


def test_what_dataclass_refuses_a_record_refuses() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        record(type("Bad", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 0}))
    frozen = record(type("Frozen", (), {"__annotations__": {"a": "int"}}))
    with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):
        record(frozen=False)(type("Thawed", (frozen,), {}))
    mutable = record(frozen=False)(type("Mutable", (), {"__annotations__": {"a": "int"}}))
    with pytest.raises(TypeError, match="cannot inherit frozen dataclass from a non-frozen one"):
        record(type("Refrozen", (mutable,), {}))
    with pytest.raises(TypeError, match="InitVar"):
        record(type("Var", (), {"__annotations__": {"a": InitVar[int]}}))
    with pytest.raises(TypeError, match="__setattr__"):
        record(type("Own", (), {"__setattr__": lambda self, n, v: None}))


def test_init_is_compiled_by_the_first_instance_only() -> None:
    cls = _spec(record)
    assert type(vars(cls)["__init__"]).__name__ == "_LazyInit"
    cls("a")
    init = vars(cls)["__init__"]
    assert inspect.isfunction(init)
    assert init.__qualname__ == f"{cls.__qualname__}.__init__"
    cls("b")
    assert vars(cls)["__init__"] is init


@record
class Shard:
    """Module-level records, so pickle can find them by name."""

    index: int
    keys: tuple[str, ...] = ()
    token: str = field(default="", repr=False)


@record(frozen=False)
class Report:
    shard: Shard
    done: list[str] = field(default_factory=list)


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_and_copy_round_trip(protocol: int) -> None:
    report = Report(Shard(3, ("a", "b"), "t0ken"), ["a"])
    for back in (
        pickle.loads(pickle.dumps(report, protocol)),
        copy.deepcopy(report),
        copy.copy(report),
    ):
        assert back == report
        assert back.shard == report.shard
        assert back is not report
    assert copy.copy(report.shard) == report.shard
    assert Shard(1).__getstate__() == [1, (), ""]  # dataclass's state: a list of every field


IMPORTS = r"""
import builtins, dataclasses, json, sys

wrote, compiled, real_dataclass, real_exec = [], [], dataclasses.dataclass, builtins.exec

def spy_dataclass(cls=None, /, **flags):
    def wrap(cls):
        cheap = dict(init=False, repr=False, eq=False)
        if any(flags.get(k, True) for k in cheap) or flags.get("frozen"):
            wrote.append(cls.__qualname__)  # dataclass writes methods for it
        return real_dataclass(cls, **flags)
    return wrap if cls is None else wrap(cls)

def spy_exec(*args, **kwargs):
    compiled.append(sys._getframe(1).f_globals.get("__name__"))
    return real_exec(*args, **kwargs)

dataclasses.dataclass, builtins.exec = spy_dataclass, spy_exec
for name in sys.argv[1:]:
    __import__(name)
builtins.exec = real_exec
classes = [
    c for m in list(sys.modules.values()) if m.__name__.startswith("s3z_core")
    for c in vars(m).values()
    if isinstance(c, type) and c.__module__ == m.__name__ and "__dataclass_fields__" in vars(c)
]
plain = sorted(c.__qualname__ for c in classes if "__record__" not in vars(c))
built = sorted(
    c.__qualname__ for c in classes
    if "__record__" in vars(c) and type(vars(c)["__init__"]).__name__ != "_LazyInit"
)
print(json.dumps({"wrote": wrote, "compiled": compiled, "plain": plain, "built": built}))
"""


@pytest.mark.parametrize(
    "modules",
    [
        ["s3z_core.cli.main", "s3z_core.cli.commands.listing", "s3z_core.engine"],
        ["s3z_core.cli.main", "s3z_core.cli.commands.copying", "s3z_core.engine"],
    ],
)
def test_a_commands_imports_compile_no_dataclass_methods(modules: list[str]) -> None:
    """The ``ls`` and ``cp`` paths in a fresh interpreter: the only plain dataclass is
    ServiceError (an exception: not slotted, it calls super() in __post_init__), and the
    only records built are three module constants (their ``__init__`` compiled then)."""
    out = subprocess.run(
        [sys.executable, "-c", IMPORTS, *modules],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    seen = json.loads(out.stdout)
    assert seen["wrote"] == ["ServiceError"]
    assert seen["plain"] == ["ServiceError"]
    assert seen["compiled"].count("dataclasses") <= 1  # ServiceError's __init__
    assert seen["built"] == ["GiveUp", "PathFilter", "UploadOptions"]  # GIVE_UP, EVERYTHING, …
    assert seen["compiled"].count("s3z_core.records") == len(seen["built"])
