"""Shell completion: the scripts ``s3z-core completion SHELL`` prints, run by the real shells.

bash and fish are driven for real (bash calls the registered function the way readline does,
with ``COMP_LINE``/``COMP_POINT``; fish answers ``complete -C LINE`` itself). zsh completion
only runs inside a line editor, so its test replaces ``compadd``/``_describe``/``_files``
with recorders and calls the function with ``words``/``CURRENT`` set, as zsh would.
``s3://`` words go through the hidden ``__complete`` against a real SeaweedFS.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import cli_env, command, run

from s3z_core.cli.commands import completion as completion_command
from s3z_core.cli.completion_grammar import read_grammar
from s3z_core.local_server import LocalS3Server

BASH_BREAKS = set(" \t\n\"'><=;|&(:")  # bash's default COMP_WORDBREAKS

BASH_DRIVER = r"""
source "$1"
spec=$(complete -p s3z-core) || exit 3
function=${spec#*-F }; function=${function%% *}
COMP_LINE=$2; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
"$function" s3z-core "" ""
printf '%s\n' "${COMPREPLY[@]}"
"""


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three scripts, printed by the real command."""
    folder = tmp_path_factory.mktemp("completion")
    made = {}
    for shell in ("bash", "zsh", "fish"):
        proc = run(None, folder, "completion", shell)
        made[shell] = folder / f"s3z-core.{shell}"
        made[shell].write_text(proc.stdout)
    return made


def _path_env(server: Any | None, home: Path) -> dict[str, str]:
    """The CLI environment with ``s3z-core`` on PATH, as an installed one would be."""
    env = cli_env(server, home)
    program = Path(command()[0])
    if program.name == "s3z-core":
        env["PATH"] = f"{program.parent}:{env['PATH']}"
    return env


def bash_complete(script: Path, line: str, env: dict[str, str]) -> list[str]:
    proc = subprocess.run(
        ["bash", "-c", BASH_DRIVER, "bash", str(script), line],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return [reply for reply in proc.stdout.splitlines() if reply]


def bash_words(line: str, replies: list[str]) -> list[str]:
    """What the line's last word becomes with each reply, as readline splices it: after the
    word's last COMP_WORDBREAKS character, the reply's shell escapes undone."""
    cut = max((i for i, ch in enumerate(line) if ch in BASH_BREAKS), default=-1)
    kept = line[: cut + 1]
    start = max((i for i, ch in enumerate(kept) if ch == " "), default=-1) + 1
    return sorted(kept[start:] + shlex.split(reply)[0] for reply in replies)


def test_bash_completes_commands_and_options(scripts: dict[str, Path], home: Path) -> None:
    env = _path_env(None, home)
    assert sorted(bash_complete(scripts["bash"], "s3z-core c", env)) == ["cat", "cp"]
    assert bash_complete(scripts["bash"], "s3z-core ls --rec", env) == ["--recursive"]
    # an option's value is skipped when finding the command
    assert bash_complete(scripts["bash"], "s3z-core --profile dev l", env) == ["ls"]
    assert bash_complete(scripts["bash"], "s3z-core presign --method ", env) == ["GET", "PUT"]
    assert bash_complete(scripts["bash"], "s3z-core completion z", env) == ["zsh"]
    # `-r` takes a region in upload, and is --recursive in cp
    assert bash_complete(scripts["bash"], "s3z-core cp -r --fol", env) == ["--follow-symlinks"]
    assert bash_words("s3z-core ls s", bash_complete(scripts["bash"], "s3z-core ls s", env)) == [
        "s3://"
    ]


@pytest.fixture
def listed_bucket(seaweed: LocalS3Server, bucket: Callable[..., str], boto3_client: Any) -> str:
    name: str = bucket(seaweed, prefix="cmpl")
    client = boto3_client(seaweed)
    for key in ("dir one/f.txt", "top.txt", "k=v/x", "dir one/g.txt"):
        client.put_object(Bucket=name, Key=key, Body=b"x")
    return name


def test_bash_completes_buckets_and_keys_of_a_local_server(
    scripts: dict[str, Path],
    seaweed: LocalS3Server,
    listed_bucket: str,
    boto3_client: Any,
    home: Path,
) -> None:
    env = _path_env(seaweed, home)
    line = "s3z-core ls s3://"
    buckets = [b["Name"] for b in boto3_client(seaweed).list_buckets()["Buckets"]]
    assert listed_bucket in buckets
    assert bash_words(line, bash_complete(scripts["bash"], line, env)) == sorted(
        f"s3://{name}/" for name in buckets
    )
    line = f"s3z-core cp s3://{listed_bucket}/"
    assert bash_words(line, bash_complete(scripts["bash"], line, env)) == [
        f"s3://{listed_bucket}/dir one/",
        f"s3://{listed_bucket}/k=v/",
        f"s3://{listed_bucket}/top.txt",
    ]
    line = f"s3z-core cat s3://{listed_bucket}/k=v/"  # bash's word starts after the '='
    assert bash_words(line, bash_complete(scripts["bash"], line, env)) == [
        f"s3://{listed_bucket}/k=v/x"
    ]


def test_options_typed_before_the_tab_choose_the_server(
    scripts: dict[str, Path], seaweed: LocalS3Server, listed_bucket: str, home: Path
) -> None:
    """The endpoint comes from the line, not the environment, when it is typed there."""
    env = _path_env(seaweed, home)
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # discard port: nothing answers
    line = f"s3z-core ls --endpoint-url {seaweed.endpoint_url} s3://{listed_bucket[:8]}"
    assert f"s3://{listed_bucket}/" in bash_words(line, bash_complete(scripts["bash"], line, env))
    line = f"s3z-core ls s3://{listed_bucket[:8]}"
    assert bash_complete(scripts["bash"], line, env) == []


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An endpoint that accepts connections and never answers (a stuck proxy)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_hidden_complete_gives_up_quietly_on_a_server_that_never_answers(
    silent_server: str, seaweed: LocalS3Server, home: Path
) -> None:
    """The deadline holds even where the client's own timeouts (60 s reads) would wait; a
    hang would hit this subprocess's timeout. Nothing reaches the prompt."""
    proc = run(seaweed, home, "__complete", "s3://", check=1, AWS_ENDPOINT_URL=silent_server)
    assert proc.stdout == ""
    assert proc.stderr == ""
    proc = run(None, home, "__complete", "s3://", check=1)  # no credentials at all
    assert (proc.stdout, proc.stderr) == ("", "")


def test_hidden_complete_lists_one_bounded_page(
    seaweed: LocalS3Server, listed_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(completion_command, "MAX_CANDIDATES", 2)
    line = ["--endpoint-url", seaweed.endpoint_url, "--access-key", seaweed.access_key]
    line += ["--secret-key", seaweed.secret_key, "--region", seaweed.region, "--path-style"]
    options = completion_command._line_options(line)
    found = asyncio.run(completion_command.remote_candidates(f"s3://{listed_bucket}/", options))
    assert found == [f"s3://{listed_bucket}/dir one/", f"s3://{listed_bucket}/k=v/"]


needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")


def fish_complete(script: Path, line: str, env: dict[str, str]) -> list[str]:
    proc = subprocess.run(
        ["fish", "--no-config", "-c", 'source $argv[1]; complete -C "$argv[2]"', str(script), line],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [reply.split("\t")[0] for reply in proc.stdout.splitlines()]


@needs_fish
def test_fish_completes_commands_options_and_s3_urls(
    scripts: dict[str, Path], seaweed: LocalS3Server, listed_bucket: str, home: Path
) -> None:
    env = _path_env(seaweed, home)
    assert sorted(fish_complete(scripts["fish"], "s3z-core c", env)) == ["cat", "cp"]
    assert fish_complete(scripts["fish"], "s3z-core ls --rec", env) == ["--recursive"]
    assert fish_complete(scripts["fish"], "s3z-core presign --method ", env) == ["GET", "PUT"]
    assert fish_complete(scripts["fish"], "s3z-core ls s", env) == ["s3://"]
    found = fish_complete(scripts["fish"], f"s3z-core ls s3://{listed_bucket}/", env)
    assert found == [
        f"s3://{listed_bucket}/dir one/",
        f"s3://{listed_bucket}/k=v/",
        f"s3://{listed_bucket}/top.txt",
    ]


ZSH_DRIVER = r"""
compdef() { print -r -- "compdef $*" }
source $1
compadd() {
    local -a a; a=("$@")
    while [[ $a[1] == -* && $a[1] != -- ]]; do [[ $a[1] == -S ]] && shift a; shift a; done
    shift a
    print -r -- ${(j:|:)a}
}
_describe() { print -r -- ${(j:|:)${(P)${4}}%%:*} }
_files() { print -r -- FILES }
words=("${(@s: :)2}"); CURRENT=${#words}
_s3z_core
"""


@needs_zsh
def test_zsh_function_offers_what_the_line_needs(
    scripts: dict[str, Path], seaweed: LocalS3Server, listed_bucket: str, home: Path
) -> None:
    env = _path_env(seaweed, home)

    def offered(line: str) -> list[str]:
        proc = subprocess.run(
            ["zsh", "-f", "-c", ZSH_DRIVER, "zsh", str(scripts["zsh"]), line],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return [out for out in proc.stdout.splitlines() if out]

    commands = offered("s3z-core c")
    assert commands[0] == "compdef _s3z_core s3z-core"  # sourcing registers it
    assert commands[1].split("|") == [c.name for c in read_grammar().offered]
    assert offered("s3z-core presign --method ")[1] == "GET|PUT"
    assert offered(f"s3z-core cp ./x s3://{listed_bucket}/")[1:] == [
        f"s3://{listed_bucket}/dir one/|s3://{listed_bucket}/k=v/",  # folders: no space after
        f"s3://{listed_bucket}/top.txt",
    ]
    assert offered("s3z-core cp ")[1:] == ["FILES", "s3://"]


def test_bash_offers_every_option_the_parser_accepts(scripts: dict[str, Path]) -> None:
    """The scripts are generated from the parser: a new option cannot be forgotten."""
    parser_options = {
        cmd.name: sorted(n for o in cmd.options if not o.hidden for n in o.names)
        for cmd in read_grammar().commands
    }
    listing = "; ".join(f'echo "{name}=$(_s3z_core_options {name})"' for name in parser_options)
    proc = subprocess.run(
        ["bash", "-c", f"source {shlex.quote(str(scripts['bash']))}; {listing}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    offered = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    assert {name: sorted(words.split()) for name, words in offered.items()} == parser_options
    assert "--recursive" in parser_options["ls"]
