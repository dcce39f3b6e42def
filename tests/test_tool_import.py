"""``bootmigrate.import_migrations`` and ``bootmigrate import``: other tools' folders.

The layouts in tests/data/tools/ are written in each tool's documented format. Each is
imported, run by bootmigrate, and compared with the same files run in plain ``sqlite3``
the way the tool runs them (tests/support/foreign_tools.py). Then what each tool's
reader refuses, on small folders written here, and the command line.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate._foreign.layouts import NO_TRANSACTION, valid_name
from bootmigrate._source.text import split
from dbfiles import file_state, make_set
from foreign_tools import DATA, TOOLS, run, ups
from processes import cli_env, run_cli

# Where each tool ran a file outside a transaction in the test data (by version).
OUTSIDE = {
    "golang-migrate": {20240402120000},  # BEGIN ... COMMIT of its own (x-no-tx-wrap)
    "goose": {3},  # -- +goose NO TRANSACTION
    "dbmate": {20240102120000},  # -- migrate:up transaction:false
    "sqlx": {20240202000000},  # -- no-transaction
    "diesel": {20240315093000},  # metadata.toml: run_in_transaction = false
}
# The versions whose down file holds only comments (or nothing) in the test data.
PLACEHOLDER_DOWNS = {
    "golang-migrate": {20240402120000},
    "goose": {4},
    "dbmate": {20240103120000},
    "sqlx": {20240202000000},
    "diesel": {20240315093000},
}
# The versions without a down file to begin with (a simple sqlx migration).
NO_DOWN = {"sqlx": {20240203000000}}


def imported(tool: str, tmp_path: Path) -> tuple[bootmigrate.ImportReport, Path]:
    destination = tmp_path / "migrations"
    return bootmigrate.import_migrations(tool, DATA / tool, destination), destination


def without_directive(text: str) -> str:
    first, _, rest = text.partition("\n")
    return rest if first.strip() == NO_TRANSACTION else text


@pytest.mark.parametrize("tool", TOOLS)
def test_the_imported_set_reaches_the_schema_the_tool_reaches(tool: str, tmp_path: Path) -> None:
    report, destination = imported(tool, tmp_path)
    reference = tmp_path / "reference.db"
    run(reference, ups(tool))

    db = tmp_path / "app.db"
    result = bootmigrate.migrate(db, destination)

    originals = ups(tool)
    assert [s.version for s in result.steps] == [u.version for u in originals]
    # Each through a connection of its own, after the run closed its own.
    assert (
        bootmigrate.schema_diff(
            bootmigrate.canonical_schema(reference), bootmigrate.canonical_schema(db)
        )
        == ""
    )
    assert bootmigrate.canonical_schema(db) == bootmigrate.canonical_schema(reference)
    assert bootmigrate.status(db, destination).up_to_date

    migrations = bootmigrate.load(destination)
    assert migrations.versions == tuple(u.version for u in originals) == report.versions
    assert {m.version for m in migrations if m.up.no_transaction} == OUTSIDE[tool]
    # No SQL text changed: the same statements, character for character.
    for migration, original in zip(migrations, originals):
        ours = [s.sql for s in split(without_directive(migration.up.text))]
        assert ours == [s.sql for s in split(original.sql)], migration.label
    irreversible = PLACEHOLDER_DOWNS[tool] | NO_DOWN.get(tool, set())
    assert {m.version for m in migrations if not m.reversible} == irreversible
    assert set(report.irreversible) == irreversible
    assert sorted(p.name for p in report.written) == sorted(p.name for p in destination.iterdir())


@pytest.mark.parametrize("tool", TOOLS)
def test_the_down_files_undo_the_up_files(tool: str, tmp_path: Path) -> None:
    _, destination = imported(tool, tmp_path)
    db = tmp_path / "app.db"
    migrations = bootmigrate.load(destination)
    # Down to the last irreversible step, then up again: the same schemas.
    floor = max(PLACEHOLDER_DOWNS[tool] | NO_DOWN.get(tool, set()))
    bootmigrate.migrate(db, destination, target=floor)
    at_floor = bootmigrate.canonical_schema(db)
    bootmigrate.migrate(db, destination)
    head = bootmigrate.canonical_schema(db)
    if migrations.head != floor:
        report = bootmigrate.downgrade(db, destination, floor)
        assert report.to_version == floor
        assert bootmigrate.canonical_schema(db) == at_floor
        bootmigrate.migrate(db, destination)
        assert bootmigrate.canonical_schema(db) == head


def test_every_change_is_reported_one_line_each(tmp_path: Path) -> None:
    report, destination = imported("goose", tmp_path)
    lines = report.changes
    assert lines[:2] == (
        "0001_create_notes.up.sql <- the -- +goose Up section of 00001_create_notes.sql: "
        "version 00001 spelled 0001",
        "0001_create_notes.down.sql <- the -- +goose Down section of 00001_create_notes.sql: "
        "version 00001 spelled 0001",
    )
    assert any(
        line.startswith("0002_touch_notes.up.sql <- ") and "StatementBegin" in line
        for line in lines
    )
    tags = [line for line in lines if line.startswith("0003_add_note_tags.")]
    assert len(tags) == 2
    for line in tags:
        assert "name 'AddNoteTags' made 'add_note_tags'" in line
        assert f"'{NO_TRANSACTION}' added: '-- +goose NO TRANSACTION' (line 1)" in line
    assert (
        "the -- +goose Down section of 00004_pin_notes.sql: holds no statement, only "
        "comments: no down file written, so 0004_pin_notes is irreversible"
    ) in lines
    assert "README.md: ignored (not a goose migration: {version}_{name}.sql)" in lines
    assert all("\n" not in line for line in lines)
    summary = report.summary()
    assert summary.splitlines()[0] == (
        f"imported 4 goose migration(s) (versions 1 to 4) from {DATA / 'goose'} into "
        f"{destination}: 7 file(s) written, 1 migration(s) without a down file"
    )
    assert summary.splitlines()[1:] == [f"  {line}" for line in lines]


def test_versions_names_and_directives_as_each_tool_has_them(tmp_path: Path) -> None:
    names = {}
    for tool in TOOLS:
        report, destination = imported(tool, tmp_path / tool)
        names[tool] = sorted(p.name for p in destination.iterdir())
        assert report.tool == tool and report.source == DATA / tool
    assert "20240410083000_add_user_avatar.up.sql" in names["golang-migrate"]  # add-user-Avatar
    assert "20240313170000_create_authors.up.sql" in names["diesel"]  # 2024-03-13-170000_...
    assert "20240203000000_add_price.up.sql" in names["sqlx"]  # a simple sqlx migration
    rebuild = tmp_path / "golang-migrate/migrations/20240402120000_unique_emails.up.sql"
    original = (DATA / "golang-migrate/20240402120000_unique_emails.up.sql").read_text()
    assert rebuild.read_text() == f"{NO_TRANSACTION}\n{original}"
    dbmate = tmp_path / "dbmate/migrations/20240102120000_index_account_names.up.sql"
    assert dbmate.read_text() == (
        f"{NO_TRANSACTION}\ncreate index accounts_name on accounts (name);\nvacuum;\n"
    )


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("create_users", "create_users"),  # valid already: kept
        ("add__two", "add__two"),  # valid already, even with a double '_'
        ("AddNoteTags", "add_note_tags"),  # goose's old CamelCase names
        ("add-user-Avatar", "add_user_avatar"),
        ("HTTPServerLog", "http_server_log"),
        ("create users table", "create_users_table"),  # a sqlx description
        ("añadir_índice", "anadir_indice"),  # accents dropped, not the letters
        ("--", "migration"),  # nothing left
        ("", "migration"),
    ],
)
def test_names_are_made_valid(raw: str, name: str) -> None:
    assert valid_name(raw) == name


# -- what is refused, naming the file; nothing is written then ----------------------------


def folder(tmp_path: Path, files: Mapping[str, str | bytes]) -> Path:
    """A tool's folder: *files* by path, in subfolders too (diesel's)."""
    source = tmp_path / "src"
    for path, content in files.items():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        make_set((source / path).parent, {Path(path).name: content}, subdir="")
    return source


def refused(tool: str, files: Mapping[str, str | bytes], tmp_path: Path) -> str:
    source = folder(tmp_path, files)
    destination = tmp_path / "dest"
    with pytest.raises(bootmigrate.SourceError) as caught:
        bootmigrate.import_migrations(tool, source, destination)
    assert not destination.exists()
    return str(caught.value)


GOOSE_UP = "-- +goose Up\nCREATE TABLE a (x);\n"


@pytest.mark.parametrize(
    ("tool", "files", "fragments"),
    [
        (  # a Go migration: Go code
            "goose",
            {"00001_a.sql": GOOSE_UP, "00002_backfill.go": "package migrations\n"},
            ["00002_backfill.go: a goose Go migration", "Go code"],
        ),
        (  # goose hands the block to the driver as one statement: it holds two
            "goose",
            {
                "00001_a.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a (x);\n"
                "CREATE TABLE b (y);\n-- +goose StatementEnd\n"
            },
            ["00001_a.sql line 2", "holds 2 statements", "cannot be kept as one"],
        ),
        (  # a block without ';', and another statement after it: they would join
            "goose",
            {
                "00001_a.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a (x)\n"
                "-- +goose StatementEnd\nCREATE TABLE b (y);\n"
            },
            ["00001_a.sql line 2", "does not end with ';'", "end the block's statement"],
        ),
        (
            "goose",
            {"00001_a.sql": "-- +goose ENVSUB ON\n-- +goose Up\nCREATE TABLE ${T} (x);\n"},
            ["00001_a.sql line 1", "environment variables"],
        ),
        (  # BEGIN in a file goose runs in a transaction: it never worked there
            "goose",
            {"00001_a.sql": "-- +goose Up\nBEGIN;\nCREATE TABLE a (x);\nCOMMIT;\n"},
            ["00001_a.sql line 2: BEGIN", "add '-- +goose NO TRANSACTION'"],
        ),
        (
            "goose",
            {"00001_a.sql": "-- +goose Up\n-- nothing yet\n-- +goose Down\nDROP TABLE a;\n"},
            ["the -- +goose Up section of 00001_a.sql", "no statement", "SELECT 1;"],
        ),
        (
            "goose",
            {"00001_a.sql": "CREATE TABLE a (x);\n-- +goose Up\n"},
            ["00001_a.sql line 1", "before '-- +goose Up'"],
        ),
        (
            "goose",
            {"00001_a.sql": "  -- +goose Up\nCREATE TABLE a (x);\n"},
            ["00001_a.sql line 1", "whitespace"],
        ),
        (
            "goose",
            {"00001_a.sql": "-- +goose Up\n-- +goose Sideways\nCREATE TABLE a (x);\n"},
            ["00001_a.sql line 2", "not a goose annotation"],
        ),
        (  # dbmate runs files in name order: 10 before 9
            "dbmate",
            {
                "9_a.sql": "-- migrate:up\nCREATE TABLE a (x);\n",
                "10_b.sql": "-- migrate:up\nCREATE TABLE b (x);\n",
            },
            ["the -- migrate:up section of 10_b.sql", "order of their file names"],
        ),
        (
            "dbmate",
            {"20240101_a.sql": "CREATE TABLE a (x);\n-- migrate:up\n"},
            ["20240101_a.sql line 1", "before '-- migrate:up'"],
        ),
        (  # diesel's Rust migrations are code
            "diesel",
            {"2024-01-01-000000_a/up.rs": "fn up() {}\n"},
            ["2024-01-01-000000_a/: no up.sql but up.rs: a Rust migration"],
        ),
        (
            "diesel",
            {"v1_a/up.sql": "CREATE TABLE a (x);\n"},
            ["v1_a/: its version 'v1' is not a number"],
        ),
        (
            "diesel",
            {"2024-01-01-000000_a/up.sql": ""},
            ["2024-01-01-000000_a/up.sql: empty"],
        ),
        (
            "golang-migrate",
            {"0_init.up.sql": "CREATE TABLE a (x);\n"},
            ["0_init.up.sql: its version is 0"],
        ),
        (
            "golang-migrate",
            {"9223372036854775808_a.up.sql": "CREATE TABLE a (x);\n"},
            ["9223372036854775808_a.up.sql: its version 9223372036854775808 is above"],
        ),
        (
            "golang-migrate",
            {"1_a.up.txt": "CREATE TABLE a (x);\n"},
            ["1_a.up.txt: golang-migrate reads it as the up migration of version 1"],
        ),
        (
            "golang-migrate",
            {"1_a.up.sql": "CREATE TABLE a (x);\n", "1_b.up.sql": "CREATE TABLE b (x);\n"},
            ["1_b.up.sql: it has version 1 and the same direction as 1_a.up.sql"],
        ),
        (
            "golang-migrate",
            {"1_a.down.sql": "DROP TABLE a;\n"},
            ["1_a.down.sql: a down migration without an up migration"],
        ),
        (  # a simple and a reversible sqlx migration of one version
            "sqlx",
            {"1_a.sql": "CREATE TABLE a (x);\n", "1_b.up.sql": "CREATE TABLE b (x);\n"},
            ["1_b.up.sql: it has version 1 and the same direction as 1_a.sql"],
        ),
        (  # SAVEPOINT works inside sqlx's transaction, but not inside bootmigrate's
            "sqlx",
            {"1_a.sql": "SAVEPOINT s;\nCREATE TABLE a (x);\nRELEASE s;\n"},
            ["1_a.sql line 1: SAVEPOINT", "make '-- no-transaction' its first line"],
        ),
        (
            "sqlx",
            {"1_a.sql": b"CREATE TABLE a (x);\n\xff\n"},
            ["'1_a.sql' is not valid UTF-8"],
        ),
        (  # what bootmigrate's own checks refuse is named by the tool's file
            "sqlx",
            {"1_a.sql": "CREATE TABLE a (x);\n-- bootmigrate: no-transaction\nSELECT 1;\n"},
            ["1_a.sql: bootmigrate would refuse it once imported", "line 2"],
        ),
        ("sqlx", {"notes.txt": "hello\n"}, ["holds no sqlx migration"]),
    ],
    ids=lambda value: None,
)
def test_what_cannot_be_converted_faithfully_is_refused(tool, files, fragments, tmp_path):
    message = refused(tool, files, tmp_path)
    for fragment in fragments:
        assert fragment in message, message


def test_a_statement_block_at_the_end_of_its_section_may_omit_its_semicolon(
    tmp_path: Path,
) -> None:
    source = make_set(
        tmp_path,
        {
            "00001_a.sql": "-- +goose Up\nCREATE TABLE a (x);\n-- +goose StatementBegin\n"
            "CREATE TRIGGER a_t AFTER INSERT ON a BEGIN SELECT 1; END\n"
            "-- +goose StatementEnd\n\n-- +goose Down\nDROP TABLE a;\n"
        },
        subdir="src",
    )
    bootmigrate.import_migrations("goose", source, tmp_path / "dest")
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, tmp_path / "dest")
    assert [t.name for t in bootmigrate.canonical_schema(db).triggers] == ["a_t"]


def test_crlf_files_keep_their_line_endings(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "00001_a.sql": "-- +goose NO TRANSACTION\r\n-- +goose Up\r\nCREATE TABLE a (x);\r\n"
            "-- +goose Down\r\nDROP TABLE a;\r\n"
        },
        subdir="src",
    )
    bootmigrate.import_migrations("goose", source, tmp_path / "dest")
    up = (tmp_path / "dest" / "0001_a.up.sql").read_bytes()
    assert up == b"-- bootmigrate: no-transaction\r\nCREATE TABLE a (x);\r\n"
    assert not bootmigrate.load(tmp_path / "dest").get(1).transactional  # type: ignore[union-attr]


def test_a_down_file_named_otherwise_is_named_after_its_up_file(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {"1_create.up.sql": "CREATE TABLE a (x);\n", "1_drop.down.sql": "DROP TABLE a;\n"},
        subdir="src",
    )
    report = bootmigrate.import_migrations("golang-migrate", source, tmp_path / "dest")
    assert sorted(p.name for p in report.written) == [
        "0001_create.down.sql",
        "0001_create.up.sql",
    ]
    assert "named after its up file (it was 'drop')" in report.changes[1]


@pytest.mark.parametrize(
    ("metadata", "outside", "note"),
    [
        (None, False, None),
        ("run_in_transaction = true\n", False, None),
        ("run_in_transaction = false\n", True, None),
        # diesel reads the key with #[serde(default)] on a bool: missing is false.
        ("# nothing here\n", True, None),
        # diesel's unwrap_or_default: a file it cannot read is the default, true.
        ("run_in_transaction = 'no'\n", False, "is not true or false"),
        ("run_in_transaction = \n", False, "not valid TOML"),
    ],
)
def test_diesel_reads_metadata_toml_as_diesel_does(metadata, outside, note, tmp_path):
    files = {"2024-01-01-000000_a/up.sql": "CREATE TABLE a (x);\n"}
    if metadata is not None:
        files["2024-01-01-000000_a/metadata.toml"] = metadata
    source = folder(tmp_path, files)
    report = bootmigrate.import_migrations("diesel", source, tmp_path / "dest")
    migration = bootmigrate.load(tmp_path / "dest").get(20240101000000)
    assert migration is not None and migration.transactional is not outside
    notes = [line for line in report.changes if "metadata.toml" in line]
    if note is None:
        assert all("ignores" not in line for line in notes)
    else:
        assert any(note in line and "runs the migration in a transaction" in line for line in notes)


def test_a_golang_migrate_file_is_imported_whatever_its_transaction_keyword(tmp_path):
    # Any transaction control marks the file: it could only run with x-no-tx-wrap.
    source = make_set(
        tmp_path,
        {
            "1_a.up.sql": "CREATE TABLE a (x);\n",
            "2_b.up.sql": "VACUUM;\n",
            "3_c.up.sql": "SAVEPOINT s;\nCREATE TABLE c (x);\nRELEASE s;\n",
        },
        subdir="src",
    )
    bootmigrate.import_migrations("golang-migrate", source, tmp_path / "dest")
    migrations = bootmigrate.load(tmp_path / "dest")
    assert [m.transactional for m in migrations] == [True, False, False]
    bootmigrate.migrate(tmp_path / "app.db", migrations)


# -- the destination --------------------------------------------------------------------


def test_a_destination_that_holds_migration_files_is_refused(tmp_path: Path) -> None:
    destination = make_set(tmp_path, {"0001_old.up.sql": "SELECT 1;\n"}, subdir="dest")
    before = sorted(p.name for p in destination.iterdir())
    with pytest.raises(bootmigrate.UsageError, match=r"already holds migration files"):
        bootmigrate.import_migrations("goose", DATA / "goose", destination)
    assert sorted(p.name for p in destination.iterdir()) == before


@pytest.mark.parametrize("existing", ["bootmigrate.lock", "00001_x.sql", "1_x.up.sql"])
def test_any_migration_like_file_in_the_destination_counts(existing: str, tmp_path: Path):
    destination = make_set(tmp_path, {existing: "SELECT 1;\n"}, subdir="dest")
    with pytest.raises(bootmigrate.UsageError, match=existing.replace(".", r"\.")):
        bootmigrate.import_migrations("sqlx", DATA / "sqlx", destination)


def test_a_destination_with_other_files_is_fine(tmp_path: Path) -> None:
    destination = make_set(tmp_path, {"README.md": "# migrations\n"}, subdir="dest")
    report = bootmigrate.import_migrations("dbmate", DATA / "dbmate", destination)
    assert len(report.written) == 7 and (destination / "README.md").exists()


def test_a_destination_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "dest"
    target.write_text("not a folder")
    with pytest.raises(bootmigrate.UsageError, match=r"is a file"):
        bootmigrate.import_migrations("dbmate", DATA / "dbmate", target)


def test_importing_into_the_source_folder_itself_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "golang"
    shutil.copytree(DATA / "golang-migrate", source)
    before = sorted(p.name for p in source.iterdir())
    with pytest.raises(bootmigrate.UsageError):
        bootmigrate.import_migrations("golang-migrate", source, source)
    assert sorted(p.name for p in source.iterdir()) == before


def test_a_missing_source_and_an_unknown_tool_are_errors(tmp_path: Path) -> None:
    with pytest.raises(bootmigrate.SourceNotFound, match=r"no such directory"):
        bootmigrate.import_migrations("goose", tmp_path / "missing", tmp_path / "dest")
    (tmp_path / "a_file").write_text("")
    with pytest.raises(bootmigrate.SourceNotFound, match=r"a_file: not a directory"):
        bootmigrate.import_migrations("goose", tmp_path / "a_file", tmp_path / "dest")
    with pytest.raises(bootmigrate.UsageError, match=r"unknown migration tool 'flyway'"):
        bootmigrate.import_migrations("flyway", DATA / "goose", tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


# -- the command line ----------------------------------------------------------------------


def test_the_cli_imports_and_prints_every_change(tmp_path: Path) -> None:
    result = run_cli(
        ["import", "--from", "diesel", str(DATA / "diesel"), str(tmp_path / "dest")],
        cwd=tmp_path,
        env=cli_env(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("imported 3 diesel migration(s)")
    assert (
        "  20240315093000_rebuild_books.up.sql <- 2024-03-15-093000_rebuild_books/up.sql: "
        "version 2024-03-15-093000 written as 20240315093000, the form diesel records (its "
        "'-' removed); '-- bootmigrate: no-transaction' added: "
        "2024-03-15-093000_rebuild_books/metadata.toml says run_in_transaction = false"
    ) in lines
    assert any("down.sql: holds no statement" in line for line in lines)
    up = run_cli(["--db", "app.db", "--source", "dest", "up"], cwd=tmp_path, env=cli_env())
    assert up.returncode == 0, up.stderr
    assert "migrated from an empty database to version 20240315093000" in up.stdout


def test_the_cli_refuses_a_destination_with_migrations_exit_1(tmp_path: Path) -> None:
    destination = make_set(tmp_path, {"0001_a.up.sql": "SELECT 1;\n"}, subdir="dest")
    before = file_state(destination / "0001_a.up.sql")
    result = run_cli(
        ["import", "--from", "goose", str(DATA / "goose"), str(destination)],
        cwd=tmp_path,
        env=cli_env(),
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("bootmigrate: error: the destination ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert file_state(destination / "0001_a.up.sql") == before


def test_the_cli_refuses_what_it_cannot_convert_exit_1(tmp_path: Path) -> None:
    source = make_set(tmp_path, {"00001_a.go": "package m\n"}, subdir="src")
    result = run_cli(
        ["import", "--from", "goose", str(source), str(tmp_path / "dest")],
        cwd=tmp_path,
        env=cli_env(),
    )
    assert result.returncode == 1
    assert result.stderr.startswith("bootmigrate: error: 00001_a.go: a goose Go migration")
    assert "Traceback" not in result.stderr and not (tmp_path / "dest").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["import", "--from", "flyway", "src", "dest"],  # not a tool it knows
        ["import", "src", "dest"],  # --from is required
        ["import", "--from", "goose", "src"],  # DEST is required
    ],
)
def test_the_cli_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    result = run_cli(args, cwd=tmp_path, env=cli_env())
    assert result.returncode == 2
    assert "usage: bootmigrate" in result.stderr and "Traceback" not in result.stderr


def test_the_reference_runner_runs_what_the_tools_run(tmp_path: Path) -> None:
    # The reference itself: each tool's set, run in plain sqlite3, gives its tables.
    expected = {
        "golang-migrate": {"users", "posts"},
        "goose": {"notes", "note_tags"},
        "dbmate": {"accounts", "transfers"},
        "sqlx": {"items"},
        "diesel": {"authors", "books"},
    }
    for tool in TOOLS:
        db = tmp_path / f"{tool}.db"
        run(db, ups(tool))
        conn = sqlite3.connect(db)
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        conn.close()
        assert tables == expected[tool]
