"""What a shell needs to know to complete ``s3z-core``, read off the argparse grammar.

The completion scripts embed this (commands, options, which options take a value, fixed
choices), so a TAB on a command or an option never starts Python; only an ``s3://`` word
calls back into ``s3z-core __complete`` for a bounded listing. Reading it from the parser
means a new option is completed the day it is added.
"""

from __future__ import annotations

import argparse
from typing import Any

from s3z_core.cli.arguments import build_parser
from s3z_core.records import record

#: The hidden command the scripts call for ``s3://`` words (never listed, never parsed by argparse).
COMPLETE_COMMAND = "__complete"
#: Run once to set completion up, so TAB does not offer it (``s3z-core c`` gives ``cat cp``);
#: its argument still completes once typed.
SETUP_COMMANDS = frozenset({"completion"})


@record
class Option:
    names: tuple[str, ...]
    takes_value: bool
    choices: tuple[str, ...]
    help: str
    hidden: bool  # kept for value-skipping (``-r REGION``), never offered


@record
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    choices: tuple[str, ...]  # fixed values of its positional argument (``completion bash``)
    offered: bool  # listed when TAB completes a command name


@record
class Grammar:
    top: tuple[Option, ...]  # accepted before the command
    commands: tuple[Command, ...]

    def command(self, name: str) -> Command:
        return next(c for c in self.commands if c.name == name)

    @property
    def offered(self) -> tuple[Command, ...]:
        return tuple(c for c in self.commands if c.offered)


def _option(action: argparse.Action) -> Option:
    return Option(
        names=tuple(action.option_strings),
        takes_value=action.nargs != 0,
        choices=tuple(str(c) for c in action.choices or ()),
        help=" ".join((action.help or "").split()) if action.help != argparse.SUPPRESS else "",
        hidden=action.help == argparse.SUPPRESS,
    )


def _options(parser: argparse.ArgumentParser) -> tuple[Option, ...]:
    return tuple(_option(a) for a in parser._actions if a.option_strings)


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise AssertionError("s3z-core's parser has no subcommands")


def read_grammar(parser: argparse.ArgumentParser | None = None) -> Grammar:
    parser = parser or build_parser()
    sub = _subcommands(parser)
    helps = {choice.dest: choice.help or "" for choice in sub._choices_actions}
    commands = []
    for name, command in sub.choices.items():
        if name not in helps:  # not listed in --help: not offered either
            continue
        positional = [a for a in command._actions if not a.option_strings and a.choices]
        commands.append(
            Command(
                name=name,
                help=helps[name],
                options=_options(command),
                choices=tuple(str(c) for c in positional[0].choices or ()) if positional else (),
                offered=name not in SETUP_COMMANDS,
            )
        )
    return Grammar(top=_options(parser), commands=tuple(commands))
