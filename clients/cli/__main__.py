"""``python -m clients.cli``: the ``shuttle`` command."""

from clients.cli import main

main()
