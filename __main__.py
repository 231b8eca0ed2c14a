"""``python -m msp`` runs the command line."""

from msp.cli.main import main

main()
