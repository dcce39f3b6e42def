"""The migration test kit: checks that every database in the wild reaches the fresh schema.

An app's users hold databases at every release it ever shipped. The checks here answer,
for each version, the questions CI must answer before a release::

    from bootmigrate.testing import MigrationKit

    kit = MigrationKit("myapp:migrations")
    kit.check_all()            # or one check for one version, e.g. kit.check_round_trip(3)

- :meth:`~MigrationKit.check_convergence` (per version k, 0 to head): a database migrated
  to k, given rows after each migration up to k (``NNNN_name.fixture.sql`` beside the
  migrations, the *fill* hook, and the kit's synthetic rows in every table), then
  migrated to the head has the schema of a new database at the head, no table that held
  rows is empty, and the *check_rows* hook passes.
- :meth:`~MigrationKit.check_round_trip` (per migration with a down file): up then down
  gives back the schema from before; up again gives the first up's schema.
- :meth:`~MigrationKit.check_populated` (per migration): the migration runs on tables that
  hold rows (besides the rows above, two alike per table, so a new ``UNIQUE`` index over
  duplicates, ``ADD COLUMN ... NOT NULL`` without a default and a non-constant default
  all fail here).
- :meth:`~MigrationKit.check_compatible` (per migration declared ``backward-compatible``):
  it only adds (new tables, indexes, views, triggers, nullable or defaulted columns): the
  schema before it is kept whole and every row of the database before it is unchanged,
  so the release before can use what it leaves; a failure names each break and the
  statement that causes it.
- :meth:`~MigrationKit.check_snapshot`: the head schema equals the committed
  ``schema.sql`` (``bootmigrate schema --write``).
- :meth:`~MigrationKit.check_lock`: no locked migration changed (``bootmigrate lock``).
- :meth:`~MigrationKit.check_drift`: a given database has the schema its version should
  have (``bootmigrate verify --schema``).

:func:`fingerprint` (``{table: digest of its rows}``) helps a *check_rows* hook prove that
rows a migration should not touch are identical.

The synthetic rows (:mod:`._rows`: foreign keys to the parent's key, ``NOT NULL``,
``UNIQUE``, ``CHECK ... IN`` lists, ISO-8601 text in date-like columns...) make every
database the kit builds look like a user's, without any fixture file;
``MigrationKit(source, synthetic_rows=False)`` leaves the tables to the fixtures and
hooks alone.

Each check raises :class:`MigrationCheckFailed` (an :class:`AssertionError`, so pytest
shows it as a failure) whose message names the check, the version and the difference.
The pytest plugin (``pytest --bootmigrate``) generates one test per check and version.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from .. import _binding as binding
from .._apply.boot import migrate
from .._apply.executor import replay
from .._apply.runner import downgrade, status
from .._checks import check_lock, schema_drift
from .._db.connection import Database, describe
from .._errors import MigrationError, UsageError
from .._schema.model import Schema, schema_diff
from .._schema.read import canonical_schema
from .._schema.snapshot import SNAPSHOT_FILENAME, read_snapshot, schema_at
from .._schema.tokens import quote_name
from .._source.locate import load, package_directory, resolve
from .._source.lockfile import LOCK_FILENAME
from .._source.model import Migration, MigrationSet, Script
from .._types import Connect, DatabaseLike, SourceLike
from ._rows import PlanCache, RowWriter

#: Called with each connection the kit opens, before any SQL runs (functions, collations).
PrepareHook = Callable[[sqlite3.Connection], object]
#: Called after migration *migration* was applied, to put rows in the database; the kit
#: commits afterwards.
FillHook = Callable[[sqlite3.Connection, Migration], object]
#: Called on a database upgraded to the head from version *from_version* (0: empty), to
#: assert that the rows the fill hook and the fixtures wrote are still there.
RowsHook = Callable[[sqlite3.Connection, int], object]

#: Builds a database file as something other than these migrations left it (an old build
#: of the app, a legacy store that is adopted); see :meth:`MigrationKit.check_origin`.
OriginBuilder = Callable[[Path], object]
#: Brings a database file to the head the way the app does on boot (default:
#: :func:`bootmigrate.migrate` with the source).
UpgradeHook = Callable[[Path], object]

#: The per-version checks, by the name the pytest plugin uses in test ids.
CHECKS = ("convergence", "round_trip", "populated", "baseline", "compatible")


class MigrationCheckFailed(AssertionError):
    """A check of the test kit failed; the message names the check, version and difference."""

    def __init__(self, check: str, version: int | None, message: str) -> None:
        self.check = check
        self.version = version
        super().__init__(message)


class MigrationKit:
    """The checks for one migration source; build once, run any check for any version.

    *source* is ``"pkg:folder"``, a directory, or a loaded :class:`~bootmigrate.MigrationSet` (then
    the snapshot check needs *snapshot* text). *prepare*, *fill* and *check_rows* are the
    app's hooks (see :data:`PrepareHook`, :data:`FillHook`, :data:`RowsHook`).
    *origins* names databases made by other means (see :meth:`check_origin`): a
    function that builds one, or the path of a report :func:`bootmigrate.diagnose` wrote
    on a user's machine (built by :func:`origin_from_report`); *upgrade* brings them to
    the head as the app would. *directory* is where the kit's
    database files go (default: a temporary directory per check, removed afterwards).

    *synthetic_rows* (default True): after each migration, after its fixture and the
    *fill* hook, the kit puts a row of its own into every table (the README's "Testing
    your migrations" lists what the rows honour: foreign keys, ``NOT NULL``, ``UNIQUE``,
    ``CHECK ... IN`` lists, declared types), so every check meets populated tables;
    False leaves the tables to the fixtures and the hook.

    *connect*, the app's own function to open its database (see
    :data:`bootmigrate.Connect`: SQLCipher with its key, pysqlite3), opens every
    database the kit builds, so the checks run on the SQLite the app ships.
    """

    def __init__(
        self,
        source: SourceLike,
        *,
        prepare: PrepareHook | None = None,
        fill: FillHook | None = None,
        check_rows: RowsHook | None = None,
        origins: Mapping[str, OriginBuilder | str | os.PathLike[str]] | None = None,
        upgrade: UpgradeHook | None = None,
        directory: str | os.PathLike[str] | None = None,
        synthetic_rows: bool = True,
        connect: Connect | None = None,
    ) -> None:
        self.source = source
        self.migrations: MigrationSet = load(source)
        self.prepare = prepare
        self.fill = fill
        self.check_rows = check_rows
        self.origins: dict[str, OriginBuilder | str | os.PathLike[str]] = dict(origins or {})
        self.upgrade = upgrade
        self.directory = Path(directory) if directory is not None else None
        self.synthetic_rows = synthetic_rows
        self.connect = connect
        self._head_schema: Schema | None = None
        # How to fill each table, by schema: shared by every database the kit builds.
        self._row_plans: PlanCache = {}

    # -- what there is to check -------------------------------------------------------

    @property
    def versions(self) -> tuple[int, ...]:
        """Every version a user's database can be at and still be upgraded: 0 (empty)
        and each migration's; once migrations squashed into a baseline are deleted, only
        the versions from that baseline's on (older databases are refused)."""
        floor = self.migrations.floor
        at_floor = (floor,) if floor and floor not in self.migrations.versions else ()
        return (0, *at_floor, *(v for v in self.migrations.versions if v >= floor))

    def versions_for(self, check: str) -> tuple[int, ...]:
        """The versions a per-version check (one of :data:`CHECKS`) runs for."""
        if check == "convergence":
            return self.versions
        if check == "round_trip":
            return tuple(m.version for m in self.migrations if m.reversible)
        if check == "populated":
            return self.migrations.versions
        if check == "compatible":
            # Declared so, and built from its files (not squashed into the baseline).
            floor = self.migrations.floor
            return tuple(
                m.version for m in self.migrations if m.backward_compatible and m.version > floor
            )
        if check == "baseline":
            # Provable while the files it squashed are all there.
            present = set(self.migrations.versions)
            return tuple(
                squash.version
                for squash in self.migrations.squashes
                if all(s.version in present for s in squash.squashed)
            )
        raise UsageError(f"unknown check {check!r}; the per-version checks are {CHECKS}")

    def label(self, version: int) -> str:
        """``0003_add_tags`` for a migration's version, ``0010_squashed`` for a baseline's
        whose migration file is gone, ``0 (empty)`` for 0."""
        migration = self.migrations.get(version)
        if migration is not None:
            return migration.label
        squash = next((s for s in self.migrations.squashes if s.version == version), None)
        return squash.label if squash is not None else f"{version} (empty)"

    @property
    def head(self) -> int:
        """The newest version (0 for a source with no migration)."""
        return self.migrations.head or 0

    def head_schema(self) -> Schema:
        """The schema of a new database migrated from empty to the head (computed once)."""
        if self._head_schema is None:
            with binding.using(None, self.connect):
                self._head_schema = schema_at(self.migrations, prepare=self.prepare)
        return self._head_schema

    def _diff_from_head(self, db: sqlite3.Connection | Path, label: str) -> str:
        """The diff between a new database at the head and *db* ("" when they agree)."""
        return schema_diff(
            self.head_schema(),
            canonical_schema(db),
            expected_label=f"new database at version {self.head}",
            actual_label=label,
        )

    # -- databases --------------------------------------------------------------------

    def database_at(self, version: int, path: str | os.PathLike[str]) -> Path:
        """Create the database file *path* at *version*: after each migration up to it,
        its fixture, the *fill* hook and (unless ``synthetic_rows=False``) the kit's
        synthetic rows; the database the convergence check upgrades from."""
        path = Path(path)
        with self._connect(path) as conn:
            self._migrate_with_rows(conn, version, RowWriter(self._row_plans))
        return path

    @contextmanager
    def _connect(self, path: Path) -> Iterator[sqlite3.Connection]:
        with binding.using(None, self.connect):
            conn = binding.connect(path, isolation_level=None)
        try:
            # Throwaway files: no fsync per commit (the kit commits hundreds of times).
            conn.execute("PRAGMA synchronous = OFF")
            if self.prepare is not None:
                self.prepare(conn)
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _workspace(self) -> Iterator[Path]:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            yield Path(tempfile.mkdtemp(prefix="bootmigrate-", dir=self.directory))
            return
        directory = tempfile.mkdtemp(prefix="bootmigrate-")
        try:
            yield Path(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def _migrate_with_rows(self, conn: sqlite3.Connection, version: int, rows: RowWriter) -> None:
        """Migrate to *version* one migration at a time, adding rows after each (*rows*
        writes the synthetic ones and remembers what the tables refused). Once the
        migrations a baseline squashed are deleted, the database starts from it."""
        floor = self.migrations.floor
        if floor and version >= floor:
            migrate(conn, self.migrations, target=floor)
            if self.synthetic_rows:
                rows.fill(conn)
        for migration in self.migrations:
            if migration.version > version:
                break
            if migration.version <= floor:
                continue
            migrate(conn, self.migrations, target=migration.version)
            self._add_rows(conn, migration)
            if self.synthetic_rows:
                rows.fill(conn)

    def _build(
        self, conn: sqlite3.Connection, check: str, version: int, target: int, name: str
    ) -> RowWriter:
        """:meth:`_migrate_with_rows` to *target* for the check *check* of *version*: a
        migration that fails on the rows before the one under test fails the check,
        saying so."""
        rows = RowWriter(self._row_plans)
        try:
            self._migrate_with_rows(conn, target, rows)
        except MigrationError as exc:
            raise MigrationCheckFailed(
                check,
                version,
                f"{name}: building a database at version {target} (rows added after each "
                f"migration) failed: {exc}{_refusals(rows, conn)}",
            ) from exc
        return rows

    def _add_rows(self, conn: sqlite3.Connection, migration: Migration) -> None:
        if migration.fixture is not None:
            _run_fixture(conn, migration.fixture, migration.version)
        if self.fill is not None:
            conn.execute("BEGIN")
            try:
                self.fill(conn, migration)
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if conn.in_transaction:
                conn.execute("COMMIT")

    # -- the checks -------------------------------------------------------------------

    def check_convergence(self, version: int) -> None:
        """A database at *version*, holding rows, upgraded to the head, has the head's
        schema and still holds its rows."""
        head = self.head
        name = f"convergence from version {self.label(version)}"
        with self._workspace() as work, self._connect(work / "upgraded.db") as conn:
            rows = self._build(conn, "convergence", version, version, name)
            before = _row_counts(conn)
            note = _refusals(rows, conn)
            try:
                migrate(conn, self.migrations)
            except MigrationError as exc:
                # At the head nothing is pending: what failed is opening it, not an upgrade.
                what = (
                    f"upgrading a database from version {version} to {head}"
                    if version < head
                    else f"opening a database at version {head} (the newest)"
                )
                raise MigrationCheckFailed(
                    "convergence", version, f"{name}: {what} failed: {exc}{note}"
                ) from exc
            diff = self._diff_from_head(conn, f"database upgraded from version {version}")
            if diff:
                raise MigrationCheckFailed(
                    "convergence",
                    version,
                    f"{name}: a database at version {version} upgraded to {head} does not have "
                    f"the schema of a new database at {head} ('-' new, '+' upgraded); make the "
                    f"migrations after {version} bring both to the same schema:\n{diff}",
                )
            after = _row_counts(conn)
            emptied = sorted(t for t, n in before.items() if n and after.get(t) == 0)
            if emptied:
                raise MigrationCheckFailed(
                    "convergence",
                    version,
                    f"{name}: table(s) {', '.join(emptied)} held rows at version {version} and "
                    f"are empty after the upgrade to {head}: a migration lost them (a rebuild "
                    "that does not copy the rows?)"
                    + (
                        "; they include the kit's synthetic rows: if a migration deletes rows "
                        "on purpose (orphans before a new foreign key), give the table rows "
                        "that stay in a fixture file, or pass synthetic_rows=False"
                        if self.synthetic_rows
                        else ""
                    ),
                )
            if self.check_rows is not None:
                try:
                    self.check_rows(conn, version)
                except AssertionError as exc:
                    raise MigrationCheckFailed(
                        "convergence",
                        version,
                        f"{name}: the rows check failed after the upgrade to {head}: {exc}",
                    ) from exc

    def check_origin(self, name: str) -> None:
        """A database built by the origin *name* (e.g. a legacy build's file, or a user's
        database rebuilt from its diagnostic report), upgraded the way the app does it,
        has the schema of a new database at the head.

        This is where fresh and upgraded databases are seen to differ: an old build whose
        new installs got a table without a column that upgraded installs kept.
        """
        try:
            build = self.origins[name]
        except KeyError:
            raise UsageError(
                f"no origin {name!r}; the kit knows {sorted(self.origins) or 'none'}"
            ) from None
        head = self.head
        with self._workspace() as work:
            path = work / "origin.db"
            if isinstance(build, (str, os.PathLike)):
                from ._origin import origin_from_report

                try:
                    origin_from_report(
                        build,
                        path,
                        self.migrations,
                        prepare=self.prepare,
                        connect=self.connect,
                    )
                except MigrationError as exc:
                    raise MigrationCheckFailed(
                        "origin",
                        None,
                        f"origin {name!r}: building it from the report failed: {exc}",
                    ) from exc
            else:
                build(path)
            try:
                if self.upgrade is not None:
                    self.upgrade(path)
                else:
                    with self._connect(path) as conn:
                        migrate(conn, self.migrations)
            except MigrationError as exc:
                raise MigrationCheckFailed(
                    "origin", None, f"convergence from origin {name!r}: the upgrade failed: {exc}"
                ) from exc
            diff = self._diff_from_head(path, f"origin {name!r} upgraded")
            if diff:
                raise MigrationCheckFailed(
                    "origin",
                    None,
                    f"convergence from origin {name!r}: the database it built, upgraded to "
                    f"{head}, does not have the schema of a new database at {head} "
                    f"('-' new, '+' upgraded):\n{diff}",
                )

    def check_round_trip(self, version: int) -> None:
        """Up then down gives back the schema from before; up again the first up's."""
        migration = self._migration("round_trip", version)
        if migration.down is None:
            raise UsageError(f"{migration.label} has no down file; there is no round trip")
        previous = max((v for v in self.versions if v < version), default=0)
        name = f"round trip of {migration.label}"
        with self._workspace() as work, self._connect(work / "round_trip.db") as conn:
            rows = self._build(conn, "round_trip", version, previous, name)
            note = _refusals(rows, conn)
            try:
                before = canonical_schema(conn)
                migrate(conn, self.migrations, target=version)
                up = canonical_schema(conn)
                downgrade(conn, self.migrations, previous)
                down = canonical_schema(conn)
            except MigrationError as exc:
                raise MigrationCheckFailed(
                    "round_trip", version, f"{name} failed: {exc}{note}"
                ) from exc
            diff = schema_diff(
                before,
                down,
                expected_label=f"version {previous}",
                actual_label=f"version {previous} after up and down of {version}",
            )
            if diff:
                raise MigrationCheckFailed(
                    "round_trip",
                    version,
                    f"{name}: {migration.down.filename} does not undo {migration.up.filename} "
                    f"('-' before the up, '+' after up and down):\n{diff}",
                )
            try:
                migrate(conn, self.migrations, target=version)
            except MigrationError as exc:
                raise MigrationCheckFailed(
                    "round_trip",
                    version,
                    f"{name}: applying {migration.up.filename} again after its down failed: "
                    f"{exc}{note}",
                ) from exc
            diff = schema_diff(
                up,
                canonical_schema(conn),
                expected_label=f"version {version}, first up",
                actual_label=f"version {version}, up again after down",
            )
            if diff:
                raise MigrationCheckFailed(
                    "round_trip",
                    version,
                    f"{name}: up, down and up again gives another schema than the first up; "
                    f"{migration.down.filename} leaves something behind:\n{diff}",
                )

    def check_populated(self, version: int) -> None:
        """The migration runs on tables that hold rows: those of every earlier version
        and, unless ``synthetic_rows=False``, two alike in every table."""
        migration = self._migration("populated", version)
        previous = max((v for v in self.versions if v < version), default=0)
        name = f"populated tables, {migration.label}"
        with self._workspace() as work, self._connect(work / "populated.db") as conn:
            rows = self._build(conn, "populated", version, previous, name)
            if self.synthetic_rows:
                rows.fill(conn, alike=True)
            note = _refusals(rows, conn)
            try:
                migrate(conn, self.migrations, target=version)
            except MigrationError as exc:
                if self._fails_without_rows(work, version):
                    # A plain error (a syntax error, a missing table): rows are not why.
                    raise MigrationCheckFailed(
                        "populated", version, f"{name}: the migration fails: {exc}"
                    ) from exc
                # Counted after the failure, which left the database as it was before
                # (rolled back, or restored from the run's backup): a passing check
                # does not pay for reading every table's schema again.
                counts = ", ".join(f"{t}: {n}" for t, n in _row_counts(conn).items())
                raise MigrationCheckFailed(
                    "populated",
                    version,
                    f"{name}: the migration fails on tables that hold rows ({counts or 'none'}) "
                    f"and passes on empty ones, as a user's database would fail: {exc}{note}",
                ) from exc

    def _fails_without_rows(self, work: Path, version: int) -> bool:
        """True when the migration of *version* also fails on a database built without
        any row (fixtures, the fill hook and synthetic rows all left out)."""
        with self._connect(work / "empty.db") as conn:
            previous = max((v for v in self.versions if v < version), default=0)
            try:
                if previous:
                    migrate(conn, self.migrations, target=previous)
            except MigrationError:
                return False  # the build fails on its own; the rows cannot be ruled out
            try:
                migrate(conn, self.migrations, target=version)
            except MigrationError:
                return True
        return False

    def check_compatible(self, version: int) -> None:
        """A migration declared ``backward-compatible`` only adds: the database at the
        version before, holding rows, migrated by it keeps every table, column, index,
        view and trigger as they were (new ones are nullable or defaulted columns, tables,
        indexes that are not ``UNIQUE`` on an existing table, views, triggers) and every
        row of every table it had."""
        from ._compat import offending_statement, row_breaks, schema_breaks, table_rows

        migration = self._migration("compatible", version)
        if not migration.backward_compatible:
            raise UsageError(
                f"compatible: {migration.up.filename} is not declared backward-compatible; "
                "there is no claim to check"
            )
        previous = max((v for v in self.versions if v < version), default=0)
        name = f"compatibility claim of {migration.label}"
        with self._workspace() as work, self._connect(work / "compatible.db") as conn:
            rows = self._build(conn, "compatible", version, previous, name)
            note = _refusals(rows, conn)
            before = canonical_schema(conn)
            old_rows = {t.name: table_rows(conn, t) for t in before.tables}
            try:
                migrate(conn, self.migrations, target=version)
            except MigrationError as exc:
                raise MigrationCheckFailed(
                    "compatible", version, f"{name}: the migration fails: {exc}{note}"
                ) from exc
            breaks = schema_breaks(before, canonical_schema(conn))
            if not breaks:  # a changed table's rows cannot be read by its old columns
                breaks = row_breaks(old_rows, conn, before.tables)
        if not breaks:
            return
        statements = migration.up.statements
        comment = "#" if migration.up.language == "python" else "--"
        lines = []
        for found in breaks:
            line = f"- {found.describe()}"
            statement = offending_statement(statements, found)
            if statement is not None:
                first = statement.sql.splitlines()[0] if statement.sql else ""
                line += f" (statement {statement.number}, line {statement.line}: {first})"
            lines.append(line)
        raise MigrationCheckFailed(
            "compatible",
            version,
            f"{name}: {migration.up.filename} is declared '{comment} bootmigrate: "
            f"backward-compatible', but it does more than add, so the release at version "
            f"{previous} cannot rely on the database it leaves:\n"
            + "\n".join(lines)
            + "\nRemove the backward-compatible directive, or make the migration only add "
            "(new tables, indexes, views, triggers, nullable or defaulted columns).",
        )

    def check_baseline(self, version: int) -> None:
        """The baseline of *version* (``NNNN_name.baseline.sql``) builds what its files
        build: a new database that runs it has the canonical schema, the rows (of every
        table, ``sqlite_sequence`` too) and the ``application_id`` of a new database the
        migration files brought to *version*."""
        from .._schema.snapshot import fresh_database
        from ._fingerprint import fingerprint

        squash = next((s for s in self.migrations.squashes if s.version == version), None)
        if squash is None:
            raise UsageError(
                f"baseline: {self.migrations.origin} has no baseline of version {version}"
            )
        name = f"baseline {squash.script.filename}"
        own = ("bootmigrate_ledger", "bootmigrate_meta")
        only = replace(self.migrations, squashes=(squash,))
        by_files = self.migrations.without_baseline(version)
        if by_files is None:
            raise UsageError(
                f"baseline: the migration files {squash.script.filename} squashed are gone, "
                "so there is nothing to compare it with"
            )
        try:
            with (
                binding.using(None, self.connect),
                fresh_database(by_files, version, prepare=self.prepare) as files,
                fresh_database(only, version, prepare=self.prepare) as baseline,
            ):
                expected = (
                    canonical_schema(files),
                    fingerprint(files, exclude=own),
                    _application_id(files),
                )
                actual = (
                    canonical_schema(baseline),
                    fingerprint(baseline, exclude=own),
                    _application_id(baseline),
                )
                differing = sorted(
                    table
                    for table in set(expected[1]) | set(actual[1])
                    if expected[1].get(table) != actual[1].get(table)
                )
        except MigrationError as exc:
            raise MigrationCheckFailed(
                "baseline",
                version,
                f"{name}: building a new database at version {version} failed: {exc}",
            ) from exc
        diff = schema_diff(
            expected[0],
            actual[0],
            expected_label=f"the migrations up to {version}",
            actual_label=squash.script.filename,
        )
        problems = []
        if diff:
            problems.append(f"the schema differs ('-' the migrations, '+' the baseline):\n{diff}")
        if differing:
            problems.append(f"the rows of {', '.join(differing)} differ")
        if expected[2] != actual[2]:
            problems.append(f"application_id is {actual[2]}, the migrations set {expected[2]}")
        if problems:
            raise MigrationCheckFailed(
                "baseline",
                version,
                f"{name}: a new database that runs it is not the one the migrations up to "
                f"{version} build; write it again with `bootmigrate squash --to {version} "
                "--force` (did a migration it squashes change?): " + "; ".join(problems),
            )

    def check_snapshot(self, snapshot: str | None = None) -> None:
        """The head schema equals the committed ``schema.sql`` (or the *snapshot* text)."""
        if snapshot is None:
            snapshot = self._read_source_file(SNAPSHOT_FILENAME)
            if snapshot is None:
                raise MigrationCheckFailed(
                    "snapshot",
                    self.head,
                    f"{self.migrations.origin} has no {SNAPSHOT_FILENAME}; write it with "
                    f"`bootmigrate --source {self._source_argument()} schema --write` and "
                    "commit it",
                )
        diff = schema_diff(
            read_snapshot(snapshot),
            self.head_schema(),
            expected_label=SNAPSHOT_FILENAME,
            actual_label=f"new database at version {self.head}",
        )
        if diff:
            raise MigrationCheckFailed(
                "snapshot",
                self.head,
                f"snapshot: the schema of a new database at version {self.head} differs from "
                f"the committed {SNAPSHOT_FILENAME} ('-' committed, '+' migrations); if the "
                f"change is intended, run `bootmigrate --source {self._source_argument()} "
                f"schema --write` and commit it:\n{diff}",
            )

    def check_lock(self) -> None:
        """No locked migration was edited, renamed, removed or had its number reused."""
        if self.migrations.lock_text is None:
            raise MigrationCheckFailed(
                "lock",
                None,
                f"{self.migrations.origin} has no {LOCK_FILENAME}; write it with "
                f"`bootmigrate --source {self._source_argument()} lock` and commit it",
            )
        lock = check_lock(self.migrations)
        if not lock.ok:
            raise MigrationCheckFailed(
                "lock",
                None,
                f"frozen history: {LOCK_FILENAME} does not match the migrations:\n"
                + "\n".join(f"- {d}" for d in lock.differences),
            )

    def check_drift(self, db: DatabaseLike) -> None:
        """The database *db* has the schema a new database at its version has."""
        name = describe(db)
        current = status(db, self.migrations)
        if current.problems:
            raise MigrationCheckFailed("drift", current.current, "; ".join(current.problems))
        version = current.current or 0
        try:
            diff = schema_drift(db, self.migrations, prepare=self.prepare, connect=self.connect)
        except MigrationError as exc:  # newer versions the files lack: no schema to expect
            raise MigrationCheckFailed("drift", current.current, f"{name}: {exc}") from exc
        if diff:
            raise MigrationCheckFailed(
                "drift",
                version,
                f"{name}: the schema differs from the one version {version} should have "
                f"('-' expected, '+' found); it was changed outside the migrations:\n{diff}",
            )

    def check_all(self, *, snapshot: bool = True, lock: bool = True) -> None:
        """Every check for every version; the first failure is raised."""
        for version in self.versions_for("convergence"):
            self.check_convergence(version)
        for version in self.versions_for("round_trip"):
            self.check_round_trip(version)
        for version in self.versions_for("populated"):
            self.check_populated(version)
        for version in self.versions_for("baseline"):
            self.check_baseline(version)
        for version in self.versions_for("compatible"):
            self.check_compatible(version)
        for name in self.origins:
            self.check_origin(name)
        if snapshot:
            self.check_snapshot()
        if lock:
            self.check_lock()

    # -- helpers ----------------------------------------------------------------------

    def _migration(self, check: str, version: int) -> Migration:
        migration = self.migrations.get(version)
        if migration is None:
            raise UsageError(
                f"{check}: there is no migration {version} in {self.migrations.origin}"
            )
        return migration

    def _source_argument(self) -> str:
        """What to give ``bootmigrate --source`` to write beside the migrations: their
        directory (a package's folder on disk), quoted for a shell."""
        import shlex

        directory = self.migrations.working_copy
        if directory is None and isinstance(self.source, str):
            directory = package_directory(self.source)
        return shlex.quote(directory if directory is not None else self.migrations.origin)

    def _read_source_file(self, name: str) -> str | None:
        if isinstance(self.source, MigrationSet):
            raise UsageError(
                f"the kit was given a loaded MigrationSet, so it cannot read {name}; "
                "pass the source ('pkg:folder' or a directory) or the text"
            )
        return resolve(self.source).read_text(name)


def _run_fixture(conn: sqlite3.Connection, script: Script, version: int) -> None:
    """Run a fixture file the way a migration runs (bootmigrate's one executor), in a
    transaction of its own."""
    try:
        replay(Database(conn, describe(conn), 0.0, owned=True), script)
    except MigrationError as exc:
        raise MigrationCheckFailed("fixture", version, f"fixture {exc}") from exc


def _application_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA application_id").fetchone()[0])


def _row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        table.name: int(
            conn.execute(f"SELECT count(*) FROM {quote_name(table.name)}").fetchone()[0]
        )
        for table in canonical_schema(conn).tables
    }


def _refusals(rows: RowWriter, conn: sqlite3.Connection) -> str:
    """The note a failure message ends with when tables refused the synthetic rows and
    are empty (so the check ran on them empty); "" otherwise."""
    empty = rows.empty_refusals(conn)
    if not empty:
        return ""
    return (
        f"\n(the kit's synthetic rows were refused by {', '.join(empty)}, which stayed "
        "empty: give them rows in a fixture file, NNNN_name.fixture.sql)"
    )
