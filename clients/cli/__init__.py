"""The ``shuttle`` command line: one Typer application, one module per group of commands.

| module | commands |
|---|---|
| ``serve`` | ``serve``: the relay |
| ``demo`` | ``demo``: an exercise through a real relay on loopback, played by bots |
| ``simulate`` | ``simulate``, ``study``: headless runs on a virtual clock |
| ``replay`` | ``replay``: transcript, ``--verify``, counterfactual re-runs |
| ``transfer`` | ``export``, ``import``: a stored exercise to and from a journal file |
| ``facilitator`` | ``create``, ``control``, ``revoke``, ``rules``: against a running relay |
| ``join`` | ``join``: a seat in the terminal |
| ``schema`` | ``schema``: JSON Schemas |

``options`` holds the options and checks the commands share, ``output`` what several of
them print, ``database`` how they open a journal database. A command module imports what it
needs at its top, except the relay, the SDK or the terminal seat, which a command that uses
them imports in one place when it runs, so that ``shuttle --help`` stays quick.
"""

from __future__ import annotations

import inspect

import typer

from clients.cli import demo, facilitator, join, replay, schema, serve, simulate, transfer

__all__ = ["app", "main"]

app = typer.Typer(
    help="Shuttle: a message-relay simulator for mediated (shuttle) negotiations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_COMMANDS = (  # in the order `shuttle --help` lists them
    ("serve", serve.serve),
    ("demo", demo.demo),
    ("simulate", simulate.simulate),
    ("replay", replay.replay),
    ("export", transfer.export),
    ("import", transfer.import_),
    ("create", facilitator.create),
    ("control", facilitator.control),
    ("revoke", facilitator.revoke),
    ("rules", facilitator.rules),
    ("join", join.join),
    ("schema", schema.schema),
    ("study", simulate.study),
)
for _name, _callback in _COMMANDS:
    app.command(_name)(_callback)


def _reflowed(doc: str) -> str:
    """A docstring as help text: each paragraph on one line, for the terminal to wrap.

    Typer keeps a paragraph's single line breaks, so a docstring's own line ends would show
    as ragged lines at any other width. A paragraph that starts with ``\\b`` keeps its lines.
    """
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.splitlines()) for p in paragraphs)


for _command in app.registered_commands:
    _command.help = _reflowed(_command.help or inspect.getdoc(_command.callback) or "")


def main() -> None:
    """The ``shuttle`` entry point."""
    app()
