"""`python -m api.cli …` runs the same command line as `relief-ledger …`."""

from api.cli.app import main

main()
