"""The app's boot imports only what it runs: no checks, authoring, schema tools or CLI.

Each is loaded on first use through ``bootmigrate.__getattr__``; importing one of them
from the boot path by mistake would cost every app start milliseconds for nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate._source import lockfile as _lockfile
from dbfiles import EXAMPLE_SET, make_set

# Print the bootmigrate modules loaded by an up-to-date boot, one per line.
BOOT = """
import sys
import bootmigrate

report = bootmigrate.migrate(sys.argv[1], sys.argv[2])
assert report.state == "up-to-date", report
print("\\n".join(sorted(m for m in sys.modules if m.startswith("bootmigrate"))))
"""

OFF_THE_BOOT_PATH = ("bootmigrate._checks", "bootmigrate._authoring")
OFF_THE_BOOT_PACKAGES = ("bootmigrate._schema", "bootmigrate._cli", "bootmigrate.testing")


def loaded_by_boot(db: Path, source: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", BOOT, str(db), str(source)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize("with_lock", [True, False], ids=["lock file", "no lock file"])
def test_an_up_to_date_boot_loads_no_tool(tmp_path, with_lock):
    source = make_set(
        tmp_path, {p.name: p.read_bytes() for p in EXAMPLE_SET.iterdir() if p.is_file()}
    )
    if with_lock:  # the common boot: one query against the lock's entries
        lock = _lockfile.render(bootmigrate.load(source))
        (source / "bootmigrate.lock").write_text(lock, encoding="utf-8")
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    loaded = loaded_by_boot(db, source)
    assert "bootmigrate" in loaded  # the listing works
    assert [m for m in loaded if m in OFF_THE_BOOT_PATH] == []
    assert [m for m in loaded if m.startswith(OFF_THE_BOOT_PACKAGES)] == []


def test_the_tools_load_on_first_use():
    # Through the module __getattr__: the names resolve to the defining modules' objects.
    from bootmigrate import _authoring, _checks
    from bootmigrate._schema import model, read

    assert bootmigrate.verify is _checks.verify
    assert bootmigrate.Verification is _checks.Verification
    assert bootmigrate.write_lock is _authoring.write_lock
    assert bootmigrate.Schema is model.Schema
    assert bootmigrate.canonical_schema is read.canonical_schema
