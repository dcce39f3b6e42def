"""Squashed history: ``bootmigrate squash``, NNNN_name.baseline.sql, and what each
database does with it (issue 13), on real database files."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate import BaselineError, DatabaseTooOld, InvalidTarget, UsageError
from bootmigrate._cli.main import main as cli
from bootmigrate._source.filenames import parse_filename
from bootmigrate.testing import MigrationCheckFailed, MigrationKit, fingerprint
from dbfiles import file_state, make_set, read_db
from processes import run_cli

# Three releases of an app, then a fourth. What a baseline must carry: an AUTOINCREMENT
# counter above the highest id (a row was deleted), a WITHOUT ROWID table, an FTS5 index
# (its shadow tables), a view, a trigger (not fired by the baseline's rows), an index,
# an application_id, and values of every storage class, text with CR and NUL included.
FILES = {
    "0001_notes.up.sql": (
        "PRAGMA application_id = 1234;\n"
        "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);\n"
        "INSERT INTO notes (body) VALUES ('it''s'), ('gone');\n"
        "DELETE FROM notes WHERE body = 'gone';\n"
    ),
    "0001_notes.down.sql": "DROP TABLE notes;\n",
    "0002_tags.up.sql": (
        "CREATE TABLE tags (name TEXT PRIMARY KEY, weight REAL) WITHOUT ROWID;\n"
        "INSERT INTO tags VALUES ('x', 1.5), ('y', NULL), ('z', 1e300);\n"
        "CREATE TABLE blobs (b BLOB, t TEXT, i INTEGER);\n"
        "INSERT INTO blobs VALUES (x'00ff', 'a' || char(13) || char(10) || 'b' || char(0), "
        "9223372036854775807);\n"
        "CREATE INDEX notes_body ON notes (body);\n"
        "CREATE VIEW note_count AS SELECT count(*) AS n FROM notes;\n"
        "CREATE TRIGGER notes_tag AFTER INSERT ON notes "
        "BEGIN INSERT INTO tags VALUES (new.body, 0); END;\n"
        "CREATE VIRTUAL TABLE search USING fts5(body);\n"
        "INSERT INTO search VALUES ('hello world');\n"
    ),
    "0003_pinned.up.sql": "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n",
    "0003_pinned.down.sql": "ALTER TABLE notes DROP COLUMN pinned;\n",
}
LATER = {"0004_archive.up.sql": "CREATE TABLE archive (id INTEGER PRIMARY KEY, note INTEGER);\n"}
OWN = ("bootmigrate_ledger", "bootmigrate_meta")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_set(tmp_path, FILES)


def squashed(source: Path, to: int = 3) -> Path:
    written = bootmigrate.squash(source, to)
    return Path(written.path)


def delete_squashed_files(source: Path, to: int = 3) -> None:
    for path in source.iterdir():
        parsed = parse_filename(path.name)
        if parsed is not None and parsed.kind != "baseline" and parsed.version <= to:
            path.unlink()


def by_files(source: Path, path: Path, target: int | None = None) -> Path:
    """A database migrated by the files alone (a copy of the source without baselines)."""
    plain = path.parent / f"{path.stem}-files"
    shutil.copytree(source, plain)
    for baseline in plain.glob("*.baseline.sql"):
        baseline.unlink()
    bootmigrate.migrate(path, plain, target=target)
    return path


# -- the file and the database a new install gets ------------------------------------


def test_a_new_database_from_the_baseline_equals_one_made_by_the_files(
    source: Path, tmp_path: Path
) -> None:
    baseline = squashed(source)
    assert baseline.name == "0003_squashed.baseline.sql"
    new = tmp_path / "new.db"
    report = bootmigrate.migrate(new, source)
    assert [(s.version, s.name) for s in report.steps] == [(3, "squashed")]
    files = by_files(source, tmp_path / "files.db")
    # Reopened through new connections: schema, every row (sqlite_sequence and the FTS5
    # shadow tables too), application_id.
    assert (
        bootmigrate.schema_diff(
            bootmigrate.canonical_schema(files), bootmigrate.canonical_schema(new)
        )
        == ""
    )
    assert fingerprint(new, exclude=OWN) == fingerprint(files, exclude=OWN)
    with sqlite3.connect(new) as conn:
        assert conn.execute("PRAGMA application_id").fetchone() == (1234,)
        assert conn.execute("SELECT seq FROM sqlite_sequence").fetchone() == (2,)
        assert conn.execute("SELECT rowid FROM search WHERE search MATCH 'hello'").fetchall() == [
            (1,)
        ]
        # The trigger is there, and did not fire while the baseline loaded its rows.
        assert conn.execute("SELECT count(*) FROM tags").fetchone() == (3,)
        conn.execute("INSERT INTO notes (body) VALUES ('w')")
        assert conn.execute("SELECT id FROM notes WHERE body = 'w'").fetchone() == (3,)
        assert conn.execute("SELECT count(*) FROM tags").fetchone() == (4,)
    conn.close()  # the with block commits; it does not close
    # Its ledger reads like the files': one row per squashed migration, same checksums.
    # bootmigrate's own tables are exactly as it makes them: verify reads them.
    assert bootmigrate.verify(new, source).ok
    new_ledger = [row[:3] for row in read_db(new).ledger]
    assert new_ledger == [row[:3] for row in read_db(files).ledger]
    assert read_db(new).user_version == 3


def test_squash_is_deterministic(source: Path, tmp_path: Path) -> None:
    first = squashed(source).read_bytes()
    again = bootmigrate.squash(source, 3, force=True)
    assert Path(again.path).read_bytes() == first
    other = make_set(tmp_path / "elsewhere", FILES)
    assert squashed(other).read_bytes() == first
    text = first.decode("utf-8")
    assert "-- squashes 0001 notes " in text and "-- squashes 0003 pinned " in text
    assert "bootmigrate_ledger" not in text and "user_version" not in text


def test_the_kit_proves_the_baseline_and_catches_an_edited_one(source: Path) -> None:
    baseline = squashed(source)
    kit = MigrationKit(source)
    assert kit.versions_for("baseline") == (3,)
    kit.check_baseline(3)
    kit.check_convergence(0)
    kit.check_convergence(1)
    text = baseline.read_text(encoding="utf-8")
    baseline.write_text(text.replace("INSERT INTO tags (name, weight) VALUES ('y', NULL);\n", ""))
    with pytest.raises(MigrationCheckFailed) as failed:
        MigrationKit(source).check_baseline(3)
    assert str(failed.value) == (
        "baseline 0003_squashed.baseline.sql: a new database that runs it is not the one "
        "the migrations up to 3 build; write it again with `bootmigrate squash --to 3 "
        "--force` (did a migration it squashes change?): the rows of tags differ"
    )


# -- databases that already exist ----------------------------------------------------


def test_an_old_database_upgrades_past_the_baseline_through_the_files(
    source: Path, tmp_path: Path
) -> None:
    old = by_files(source, tmp_path / "old.db", target=1)
    squashed(source)
    make_set(source, LATER, subdir="")
    report = bootmigrate.migrate(old, source)
    assert [s.version for s in report.steps] == [2, 3, 4]
    new = tmp_path / "new.db"
    assert [s.name for s in bootmigrate.migrate(new, source).steps] == ["squashed", "archive"]
    assert bootmigrate.canonical_schema(old) == bootmigrate.canonical_schema(new)
    assert fingerprint(old, exclude=OWN) == fingerprint(new, exclude=OWN)


def test_once_the_files_are_gone_an_older_database_is_refused_unchanged(
    source: Path, tmp_path: Path
) -> None:
    old = by_files(source, tmp_path / "old.db", target=1)
    at_three = by_files(source, tmp_path / "at3.db", target=3)
    squashed(source)
    make_set(source, LATER, subdir="")
    delete_squashed_files(source)
    before = file_state(old)
    with pytest.raises(DatabaseTooOld) as refused:
        bootmigrate.migrate(old, source)
    assert str(refused.value) == (
        f"{old}: the database is at version 1, and this release upgrades databases from "
        "version 3 on: migrations up to 3 were squashed into '0003_squashed.baseline.sql' "
        "and their files (2, 3) are no longer shipped. It was left unchanged; open it once "
        "with an older release of the app (one that still has those migrations) and then "
        "with this one, or, when its data is not needed, move the file aside so that a new "
        "database is created"
    )
    assert refused.value.floor == 3 and refused.value.missing == (2, 3)
    assert file_state(old) == before
    assert bootmigrate.status(old, source).problems == (str(refused.value),)
    # A database at the baseline's version, or a new one, goes on as before.
    assert [s.version for s in bootmigrate.migrate(at_three, source).steps] == [4]
    new = tmp_path / "new.db"
    assert [s.name for s in bootmigrate.migrate(new, source).steps] == ["squashed", "archive"]
    assert bootmigrate.canonical_schema(new) == bootmigrate.canonical_schema(at_three)
    # The kit now starts at the baseline: older versions cannot be upgraded.
    kit = MigrationKit(source)
    assert kit.versions == (0, 3, 4)
    assert kit.versions_for("baseline") == ()
    kit.check_all(snapshot=False, lock=False)


def test_a_database_with_tables_and_no_ledger_is_refused_once_the_files_are_gone(
    source: Path, tmp_path: Path
) -> None:
    squashed(source)
    delete_squashed_files(source)
    path = tmp_path / "foreign.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    conn.close()
    before = file_state(path)
    with pytest.raises(DatabaseTooOld, match="has tables but no bootmigrate ledger"):
        bootmigrate.migrate(path, source)
    assert file_state(path) == before


def test_a_downgrade_below_the_baseline_needs_the_files(source: Path, tmp_path: Path) -> None:
    squashed(source)
    new = tmp_path / "new.db"
    bootmigrate.migrate(new, source)
    # While the files are there, a database made from the baseline goes down by them.
    bootmigrate.downgrade(new, source, 2)
    assert read_db(new).user_version == 2
    bootmigrate.migrate(new, source)
    delete_squashed_files(source)
    make_set(source, LATER, subdir="")
    bootmigrate.migrate(new, source)
    with pytest.raises(bootmigrate.IrreversibleMigration, match=r"3 \(pinned\)"):
        bootmigrate.downgrade(new, source, 1)


# -- the lock and the boot -----------------------------------------------------------


def test_the_lock_holds_the_baseline_and_the_squashed_versions(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = squashed(source)
    bootmigrate.write_lock(source)
    assert bootmigrate.status(tmp_path / "missing.db", source).pending == (3,)
    lock = (source / "bootmigrate.lock").read_text(encoding="utf-8")
    checksum = bootmigrate.load(source).squashes[0].checksum
    assert f"0003 squashed baseline {checksum}\n" in lock
    new = tmp_path / "new.db"
    bootmigrate.migrate(new, source)

    # The boot of a database made from the baseline is the one query, before the files
    # are deleted and after.
    def no_runner(*args: object, **kwargs: object) -> None:
        raise AssertionError("the runner ran")

    monkeypatch.setattr("bootmigrate._apply.runner.upgrade", no_runner)
    assert bootmigrate.migrate(new, str(source)).state == "up-to-date"
    monkeypatch.undo()
    delete_squashed_files(source)
    # The lock still matches: the squashed migrations are in the baseline.
    assert bootmigrate.check_lock(source).ok
    bootmigrate.write_lock(source)
    lock = (source / "bootmigrate.lock").read_text(encoding="utf-8")
    assert "0001 notes squashed " in lock and "0003 pinned squashed " in lock
    assert "0001 notes down" not in lock
    assert bootmigrate.check_lock(source).ok

    monkeypatch.setattr("bootmigrate._apply.runner.upgrade", no_runner)
    assert bootmigrate.migrate(new, str(source)).state == "up-to-date"
    monkeypatch.undo()
    # An edited baseline is a difference.
    baseline.write_text(baseline.read_text(encoding="utf-8") + "SELECT 1;\n", encoding="utf-8")
    check = bootmigrate.check_lock(source)
    assert not check.ok
    assert "'0003_squashed.baseline.sql' changed after it was locked" in check.differences[0]


# -- the files ------------------------------------------------------------------------


def test_a_baseline_whose_migration_changed_is_refused(source: Path) -> None:
    squashed(source)
    (source / "0002_tags.up.sql").write_text(FILES["0002_tags.up.sql"] + "SELECT 2;\n")
    with pytest.raises(BaselineError, match=r"it squashes 0002_tags \(sha256 "):
        bootmigrate.load(source)


def test_a_baseline_without_its_list_is_refused(tmp_path: Path) -> None:
    folder = make_set(tmp_path, {"0001_a.up.sql": "CREATE TABLE a (x);\n"})
    (folder / "0001_squashed.baseline.sql").write_text("CREATE TABLE a (x);\n")
    with pytest.raises(BaselineError) as refused:
        bootmigrate.load(folder)
    assert str(refused.value) == (
        "'0001_squashed.baseline.sql': it must list the migrations it squashes, up to "
        "version 1, on '-- squashes VERSION NAME SHA256' lines at the top; write it with "
        "`bootmigrate squash`"
    )


def test_squash_refusals(source: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidTarget, match="it is above the newest migration, 3"):
        bootmigrate.squash(source, 9)
    squashed(source)
    with pytest.raises(UsageError) as exists:
        bootmigrate.squash(source, 3)
    assert str(exists.value) == (
        "'0003_squashed.baseline.sql' exists: version 3 is already squashed; pass --force "
        "(force=True) to write it again"
    )
    alone = make_set(
        tmp_path / "alone",
        {
            "0001_a.up.sql": "CREATE TABLE a (x);\n",
            "0002_wal.up.sql": "-- bootmigrate: no-transaction\nPRAGMA journal_mode = WAL;\n",
            "0003_b.up.sql": "CREATE TABLE b (x);\n",
        },
    )
    with pytest.raises(InvalidTarget) as refused:
        bootmigrate.squash(alone, 3)
    assert str(refused.value) == (
        "cannot squash to version 3: '0002_wal.up.sql' is a no-transaction migration, and "
        "what it does besides schema and rows (a journal mode, a page size, VACUUM) cannot "
        "be put in a baseline, which a new database runs inside the run's transaction; "
        "squash to a version below 2"
    )
    assert bootmigrate.squash(alone, 1).description.startswith("a new database at version 1")


def test_the_cli_command(source: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--source", str(source), "squash", "--to", "2"]) == 0
    out = capsys.readouterr()
    assert out.out == (
        f"wrote {source / '0002_squashed.baseline.sql'}: a new database at version 2 "
        "(3 table(s), 5 row(s)), squashing 2 migration(s), 1 to 2\n"
    )
    assert out.err == ""
    assert cli(["--source", str(source), "squash", "--to", "2"]) == 1
    assert capsys.readouterr().err == (
        "bootmigrate: error: '0002_squashed.baseline.sql' exists: version 2 is already "
        "squashed; pass --force (force=True) to write it again\n"
    )
    assert cli(["--source", str(source), "squash", "--to", "2", "--force", "--name", "v2"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {source / '0002_v2.baseline.sql'}: ")
    assert sorted(p.name for p in source.glob("*.baseline.sql")) == ["0002_v2.baseline.sql"]
    assert cli(["--source", str(source), "squash", "--to", "7"]) == 1
    assert capsys.readouterr().err == (
        "bootmigrate: error: cannot squash to version 7: it is above the newest migration, "
        "3; pick the version of a migration (the newest released one, usually)\n"
    )


def test_the_cli_command_in_a_process(source: Path, tmp_path: Path) -> None:
    done = run_cli(["--source", source, "squash", "--to", "3", "--name", "Bad-Name"], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.endswith(
        "bootmigrate: error: the name 'Bad-Name' may hold only lower-case letters, digits and '_'\n"
    )
    done = run_cli(["--source", source, "squash", "--to", "3"], cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        f"wrote {source / '0003_squashed.baseline.sql'}: a new database at version 3 "
        "(3 table(s), 5 row(s)), squashing 3 migration(s), 1 to 3\n"
    )
    db = tmp_path / "app.db"
    done = run_cli(["--db", db, "--source", source, "up"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert read_db(db).user_version == 3


def test_the_planner_starts_only_a_new_database_from_the_newest_baseline_at_the_target(
    source: Path,
) -> None:
    # Pure: migrations and ledger rows as data.
    squashed(source, 2)
    squashed(source, 3)
    migrations = bootmigrate.load(source)
    steps = migrations.migrations
    new = bootmigrate.plan(steps, [], squashes=migrations.squashes, new_database=True)
    assert (new.baseline.label, new.pending) == ("0003_squashed", ())  # type: ignore[union-attr]
    at_two = bootmigrate.plan(steps, [], 2, squashes=migrations.squashes, new_database=True)
    assert at_two.baseline.label == "0002_squashed"  # type: ignore[union-attr]
    # Tables but no ledger: not new, the files run.
    old = bootmigrate.plan(steps, [], squashes=migrations.squashes, new_database=False)
    assert old.baseline is None and [m.version for m in old.pending] == [1, 2, 3]
    # Without the files of 2 and 3 a database at 1 needs them: refused by check().
    gone = bootmigrate.plan(steps[:1], [], squashes=migrations.squashes)
    assert gone.squashed_away == (2, 3)


def test_a_database_that_ran_another_squashed_migration_is_refused(
    source: Path, tmp_path: Path
) -> None:
    # Version 2 ran here from a file that is not the one the baseline squashed.
    other = make_set(tmp_path / "other", {**FILES, "0002_tags.up.sql": "CREATE TABLE t (x);\n"})
    path = tmp_path / "other.db"
    bootmigrate.migrate(path, other)
    squashed(source)
    delete_squashed_files(source)
    make_set(source, LATER, subdir="")
    before = file_state(path)
    with pytest.raises(bootmigrate.ModifiedMigration, match="version 2 applied as 'tags'"):
        bootmigrate.migrate(path, source)
    assert file_state(path) == before


def test_a_dry_run_of_a_new_database_shows_the_baseline(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    squashed(source)
    db = tmp_path / "new.db"
    assert cli(["--db", str(db), "--source", str(source), "up", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "\n-- 0003_squashed.baseline.sql\n-- The schema and rows of a new database" in out
    assert "0001_notes.up.sql" not in out
    assert not db.exists()


def test_squash_again_once_the_files_are_gone(source: Path, tmp_path: Path) -> None:
    squashed(source, 2)
    delete_squashed_files(source, 2)
    make_set(source, LATER, subdir="")
    with pytest.raises(InvalidTarget) as refused:
        bootmigrate.squash(source, 2, force=True)
    assert str(refused.value) == (
        "cannot squash to version 2: migration files up to it are gone, and no baseline "
        "below 2 stands for them, so there is nothing to build version 2 from; squash to a "
        "version above the newest baseline"
    )
    # Above it, the new baseline is built from the older one and the files after it, and
    # lists every migration, the ones only the older baseline knows included.
    newer = Path(bootmigrate.squash(source, 4).path)
    assert [s.version for s in bootmigrate.load(source).squashes[-1].squashed] == [1, 2, 3, 4]
    assert newer.name == "0004_squashed.baseline.sql"
    db = tmp_path / "new.db"
    assert [s.name for s in bootmigrate.migrate(db, source).steps] == ["squashed"]
    assert read_db(db).user_version == 4
    MigrationKit(source).check_baseline(4)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("0010_squashed.baseline.sql", "baseline"),
        ("20240313170000_v2.baseline.sql", "baseline"),
    ],
)
def test_the_file_name_grammar_knows_baselines(name: str, kind: str) -> None:
    parsed = parse_filename(name)
    assert parsed is not None and parsed.kind == kind


@pytest.mark.parametrize(
    ("name", "right"),
    [
        ("10_squashed.baseline.sql", "0010_squashed.baseline.sql"),  # too few digits
        ("0010_squashed.baseline.py", "0010_squashed.baseline.sql"),  # only SQL
        ("0010-squashed.baseline.sql", "0010_squashed.baseline.sql"),  # '-' after the version
    ],
)
def test_a_misnamed_baseline_says_its_right_name(name: str, right: str) -> None:
    with pytest.raises(bootmigrate.InvalidFileName) as wrong:
        parse_filename(name)
    assert wrong.value.suggestion == right


def test_the_lock_readers_agree_on_baselines_and_squashed_versions(source: Path) -> None:
    from bootmigrate._source import lockfile

    squashed(source)
    delete_squashed_files(source, 2)
    text = lockfile.render(bootmigrate.load(source))
    entries = lockfile.parse(text)
    assert [(e.version, e.kind) for e in entries] == [
        (1, "squashed"),
        (2, "squashed"),
        (3, "up"),
        (3, "down"),
        (3, "baseline"),
    ]
    fast = lockfile.read_fast(text)
    assert fast is not None
    assert [
        (int(v), n, k, c)
        for v, n, k, c in zip(fast.versions, fast.names, fast.kinds, fast.checksums)
    ] == [(e.version, e.name, e.kind, e.checksum) for e in entries]
    assert fast.filenames() == {
        "0003_pinned.up.sql",
        "0003_pinned.down.sql",
        "0003_squashed.baseline.sql",
    }
    assert [row[0] for row in fast.ledger_rows()] == ["0001", "0002", "0003"]


def test_a_python_migration_is_squashed_with_the_sql_ones(tmp_path: Path) -> None:
    folder = make_set(
        tmp_path,
        {
            "0001_people.up.sql": "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);\n"
            "INSERT INTO people (name) VALUES ('ada lovelace'), ('alan turing');\n",
            "0002_title_case.up.py": (
                "def up(conn):\n"
                "    for rowid, name in conn.execute('SELECT id, name FROM people').fetchall():\n"
                "        conn.execute('UPDATE people SET name = ? WHERE id = ?',"
                " (name.title(), rowid))\n"
            ),
        },
    )
    baseline = Path(bootmigrate.squash(folder, 2).path)
    text = baseline.read_text(encoding="utf-8")
    assert "-- squashes 0002 title_case " in text
    assert "'Ada Lovelace'" in text and "'Alan Turing'" in text
    MigrationKit(folder).check_baseline(2)
    db = tmp_path / "new.db"
    bootmigrate.migrate(db, folder)
    ledger = read_db(db).ledger
    assert [(row[0], row[1], row[2]) for row in ledger] == [
        (m.version, m.name, m.checksum) for m in bootmigrate.load(folder)
    ]


def test_progress_names_the_baseline_a_new_database_runs(source: Path, tmp_path: Path) -> None:
    squashed(source)
    make_set(source, LATER, subdir="")
    events: list[tuple[str, int, int | None, str | None]] = []
    bootmigrate.migrate(
        tmp_path / "new.db",
        source,
        progress=lambda e: (
            events.append((e.kind, e.total, e.version, e.name)) if e.kind != "working" else None
        ),
    )
    assert events == [
        ("run-start", 2, None, None),
        ("step-start", 2, 3, "squashed"),
        ("step-end", 2, 3, "squashed"),
        ("step-start", 2, 4, "archive"),
        ("step-end", 2, 4, "archive"),
    ]
