"""The command line starts light: `--help` and the light commands load neither the web stack, the
spreadsheets, the read models nor the use cases; a command loads what it uses when it runs."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("ledger.runtime", "fastapi", "strawberry", "openpyxl", "projections.registry", "api.app",
         "ledger.disasters.service", "ledger.relief.service", "argon2", "psycopg")


def loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"import sys\n{code}\nprint('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_the_cli_loads_no_heavy_module_to_show_its_help() -> None:
    loaded = loaded_after("import api.cli.app")
    assert [m for m in HEAVY if m in loaded] == []


def test_the_cli_help_lists_every_command_group() -> None:
    out = subprocess.run([sys.executable, "-m", "api.cli", "--help"], capture_output=True, text=True,
                         check=True, env={"COLUMNS": "200", "PATH": ""}).stdout
    for group in ("accounts", "areas", "relief", "housing", "audit", "projections", "targets", "serve", "demo",
                  "backup", "restore"):
        assert group in out, group


def test_the_seal_batch_the_cli_offers_is_the_sealers_default() -> None:
    from api.cli.audit import DEFAULT_BATCH
    from projections.audit.seal import DEFAULT_BATCH as SEALER_DEFAULT

    assert DEFAULT_BATCH == SEALER_DEFAULT
