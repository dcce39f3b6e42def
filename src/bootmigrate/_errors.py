"""Every exception bootmigrate raises, in one tree.

Every error the library raises on purpose is a :class:`MigrationError`::

    MigrationError
    ├── UsageError                  the caller misused the API (fix the calling code)
    ├── SourceError                 the migration files are wrong (fix the files)
    │   ├── SourceNotFound          no such package, resource folder or directory
    │   ├── NoMigrations            the source holds no migration file (package data lost?)
    │   ├── InvalidFileName         looks like a migration, misnamed (says the right name)
    │   ├── DuplicateMigration      two up files for one version
    │   ├── NameMismatch            up and down (or fixture) of one version named differently
    │   ├── OrphanDownFile          a down or fixture file without its up file
    │   ├── EncodingError           not UTF-8, or holds a NUL
    │   ├── EmptyMigration          an up or down file with no statement
    │   ├── TransactionControlError BEGIN/COMMIT/SAVEPOINT/... in a transactional migration
    │   ├── DirectiveError          an unknown or misplaced -- bootmigrate: directive
    │   ├── InvalidPythonMigration  a .py migration that does not compile or load, or lacks up/down
    │   ├── BaselineError           a squashed baseline: malformed, or its migrations changed
    │   └── LockFileError           bootmigrate.lock is malformed or disagrees with the files
    ├── PlanError                   the files and the database disagree
    │   ├── DatabaseTooNew          the database holds versions this app has no files for
    │   │   └── LegacyVersionTooNew a database to adopt claims more than its baseline knows
    │   ├── ModifiedMigration       an applied migration's file changed
    │   ├── OutOfOrderMigration     an unapplied file below the current version
    │   ├── IrreversibleMigration   a downgrade would cross a migration without a down file
    │   ├── InvalidTarget           a target version that cannot be reached
    │   ├── DatabaseTooOld          below a squashed baseline whose migration files are gone
    │   └── UnrecognizedDatabase    a database without a ledger that its baseline cannot place
    ├── ReportError                 a diagnostic report no test database can be built from
    │   ├── InvalidReport           not a report of a format this release reads (which key, why)
    │   └── UnreproducibleReport    synthetic rows cannot match its schema, constraints or counts
    └── ApplyError                  running against the database failed
        ├── StatementError          file, statement number, line and SQLite's message
        ├── PythonMigrationError    a .py migration's function raised, or ended the transaction
        ├── ForeignKeyViolation     the run left orphan rows (table, rowid, parent)
        ├── DatabaseBusy            another connection kept the database locked too long
        ├── DiskFull                the disk filled up
        ├── ReadOnlyDatabase        the file, its directory or the connection cannot write
        ├── NotADatabase            not a SQLite file, or damaged
        ├── DatabaseUnavailable     cannot be opened (missing directory, a directory, ...)
        ├── LedgerError             the runner's own tables are damaged or from a newer release
        ├── SQLiteTooOld            the running SQLite lacks a feature a pending migration uses
        └── RestoreError            no backup to put back, or not a backup of this database

Lower-level :mod:`sqlite3` errors are translated into this tree at one boundary,
:mod:`bootmigrate._db.errors`, and chained with ``from``, so callers catch one type.

Each message has up to three parts: the *problem* (what went wrong and where), the
*state* the database was left in, and a *tail* (what to do, or the failing statement).
The state is known only where the run is steered, so the runner sets it
(:meth:`MigrationError.with_state`) on every error that leaves a run: the one place that
knows whether the database is unchanged, restored from a backup, or at which version.
"""

from __future__ import annotations

# typing is not imported at run time: `import bootmigrate` stays light (see __init__).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

#: The state of a database after a run that wrote nothing it kept.
UNCHANGED = "the run was rolled back and the database is unchanged"


class MigrationError(Exception):
    """Base class of every error bootmigrate raises on purpose.

    ``str(error)`` is the whole message: the problem, the state, then what to do.
    """

    def __init__(self, problem: str, tail: str = "", *, state: str | None = None) -> None:
        #: What went wrong, and where.
        self.problem = problem
        #: What to do about it, or the statement that failed (``""`` when there is nothing).
        self.tail = tail
        #: What state the database is in now; None when no run was under way.
        self.state = state
        super().__init__(self._render())

    def _render(self) -> str:
        message = self.problem
        if self.state:
            message += f"; {self.state}"
        if self.tail and self.state:
            message += f". {self.tail[:1].upper()}{self.tail[1:]}"
        elif self.tail:
            message += f"; {self.tail}"
        return message

    def with_state(self, state: str) -> MigrationError:
        """Set the state the database is in (the runner calls it); returns the error."""
        self.state = state
        self.args = (self._render(),)
        return self


# -- misuse -------------------------------------------------------------------------


class UsageError(MigrationError):
    """The API was called in a way it does not support (a bug in the calling code)."""


# -- the migration files ------------------------------------------------------------


class SourceError(MigrationError):
    """The migration files are wrong: fix the files."""


class SourceNotFound(SourceError):
    """The migration source (package resource folder or directory) does not exist."""


class NoMigrations(SourceError):
    """The source exists but holds no migration file."""

    def __init__(self, source: str, package: bool) -> None:
        self.source = source
        hint = (
            "if the files are in the project, the build left them out: list "
            "'migrations/*.sql' (and bootmigrate.lock) in the package data"
            if package
            else "point the source at the folder that holds the NNNN_name.up.sql files"
        )
        super().__init__(f"the migration source {source!r} holds no migration file", hint)


class InvalidFileName(SourceError):
    """A file looks like a migration but its name does not follow ``NNNN_name.up.sql``."""

    def __init__(self, filename: str, reason: str, suggestion: str | None = None) -> None:
        self.filename = filename
        self.reason = reason
        self.suggestion = suggestion
        message = (
            f"{filename!r} is not a valid migration file name: {reason}. "
            "Migration files are named NNNN_name.up.sql and NNNN_name.down.sql "
            "(a version of at least 4 digits, a lower-case name of [a-z0-9_])"
        )
        super().__init__(message, f"rename it to {suggestion!r}" if suggestion else "")


class DuplicateMigration(SourceError):
    """Two files claim the same version and direction."""

    def __init__(self, version: int, filenames: Sequence[str]) -> None:
        self.version = version
        self.filenames = tuple(filenames)
        super().__init__(
            f"version {version} has more than one migration file: "
            f"{', '.join(map(repr, self.filenames))}",
            "a version is written in SQL or in Python, not both: remove one of them"
            if len({name.rpartition(".")[2] for name in self.filenames}) > 1
            else "each version needs exactly one up file, so renumber or remove all but one",
        )


class NameMismatch(SourceError):
    """The up file and the down (or fixture) file of one version have different names."""

    def __init__(self, version: int, up_file: str, down_file: str) -> None:
        self.version = version
        self.up_file = up_file
        self.down_file = down_file
        kind = "fixture" if down_file.endswith(".fixture.sql") else "down"
        super().__init__(
            f"version {version}: the up file {up_file!r} and the {kind} file {down_file!r} "
            "have different names",
            f"rename the {kind} file to match its up file",
        )


class OrphanDownFile(SourceError):
    """A down (or fixture) file has no up file of the same version."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        kind = "fixture" if filename.endswith(".fixture.sql") else "down"
        super().__init__(
            f"{filename!r} is a {kind} file without an up file of the same version",
            f"add the up file or remove the {kind} file",
        )


class EncodingError(SourceError):
    """A migration file is not valid UTF-8 text."""

    def __init__(self, filename: str, detail: str) -> None:
        self.filename = filename
        super().__init__(f"{filename!r} is not valid UTF-8 ({detail})", "save the file as UTF-8")


class EmptyMigration(SourceError):
    """An up or down file holds no SQL statement (only whitespace or comments)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        super().__init__(
            f"{filename!r} contains no SQL statement",
            "write the migration's statements in it or remove the file",
        )


class TransactionControlError(SourceError):
    """A transactional migration contains BEGIN, COMMIT, ROLLBACK, SAVEPOINT, VACUUM, ...."""

    def __init__(self, filename: str, line: int, keyword: str) -> None:
        self.filename = filename
        self.line = line
        self.keyword = keyword
        what = (
            "cannot run inside a transaction" if keyword == "VACUUM" else "is transaction control"
        )
        super().__init__(
            f"{filename!r} line {line}: {keyword} {what}, and bootmigrate runs every "
            "migration inside its own transaction",
            "remove the statement, or put '-- bootmigrate: no-transaction' on the file's "
            "first line if the file must manage its own transaction",
        )


class DirectiveError(SourceError):
    """A ``-- bootmigrate:`` directive is unknown or in the wrong place."""

    def __init__(self, filename: str, line: int, problem: str) -> None:
        self.filename = filename
        self.line = line
        super().__init__(f"{filename!r} line {line}: {problem}")


class InvalidPythonMigration(SourceError):
    """A Python migration (``.up.py``/``.down.py``) that does not compile, raises as it
    loads, or does not define its function (``up(conn)`` or ``down(conn)``)."""

    def __init__(self, filename: str, line: int | None, problem: str, advice: str) -> None:
        self.filename = filename
        #: The line at fault, from 1; None when no single line is (a missing function).
        self.line = line
        where = f"{filename!r} line {line}" if line is not None else repr(filename)
        super().__init__(f"{where}: {problem}", advice)


class BaselineError(SourceError):
    """A squashed baseline (``NNNN_name.baseline.sql``) is malformed, or the migration
    files it squashed changed since it was written."""

    def __init__(self, filename: str, problem: str, tail: str = "") -> None:
        self.filename = filename
        super().__init__(f"{filename!r}: {problem}", tail)


class LockFileError(SourceError):
    """The lock file is malformed, or the migrations no longer match it."""


# -- files versus database ----------------------------------------------------------


class PlanError(MigrationError):
    """The migration files and the database's ledger disagree; nothing was changed."""


class DatabaseTooNew(PlanError):
    """The database holds versions this app has no files for: it was migrated by a newer release."""

    def __init__(
        self,
        versions: Sequence[int],
        head: int | None,
        *,
        names: Sequence[str] = (),
        database: str | None = None,
        working_copy: str | None = None,
    ) -> None:
        self.versions = tuple(versions)
        self.head = head
        #: The names the ledger records for those versions (empty when not known).
        self.names = tuple(names)
        self.database = database
        listed = ", ".join(
            f"{v} ({n})" if n else str(v)
            for v, n in zip(self.versions, self.names or ("",) * len(self.versions))
        )
        where = f"{database}: " if database else ""
        if head is not None and any(v < head for v in self.versions):
            # Not a newer release: a file below the head vanished, and "upgrade the app"
            # would be the wrong advice.
            super().__init__(
                f"{where}the database holds version(s) {listed}, which this app has no "
                f"migration file for although it knows migrations up to {head}: a migration "
                "file was deleted or renumbered after it was applied",
                "restore it as it was",
            )
            return
        advice = "upgrade the app (or restore the database from a backup made for this release)"
        if working_copy is not None:
            # Developing the app: the newest file may have been deleted after it ran here.
            advice += f", or restore the deleted migration file in {working_copy!r}"
        super().__init__(
            f"{where}the database is newer than this app: it holds version(s) {listed}, "
            f"and this app knows migrations up to {head if head is not None else 'none'}",
            advice,
        )


class LegacyVersionTooNew(DatabaseTooNew):
    """A database to adopt claims a version above what its :class:`Baseline` knows."""

    def __init__(self, database: str, label: str, claimed: int, highest: int) -> None:
        self.database = database
        self.claimed = claimed
        self.versions = (claimed,)
        self.head = highest
        PlanError.__init__(
            self,
            f"{database}: its {label} is {claimed}, and this app takes over databases up to "
            f"version {highest}: it was written by a newer or unreleased build of the old "
            "app, whose changes this app does not know. It was left unchanged",
            "open it with that build, or restore a backup made by a release at version "
            f"{highest} or older",
        )


class ModifiedMigration(PlanError):
    """An applied migration's file now has another checksum or another name."""

    def __init__(self, changes: Sequence[tuple[int, str, str, str, str]]) -> None:
        #: (version, stored name, stored checksum, current name, current checksum)
        self.changes = tuple(changes)
        listed = "; ".join(
            f"version {v} applied as {sn!r} sha256 {sc[:12]}, file is now {cn!r} sha256 {cc[:12]}"
            for v, sn, sc, cn, cc in self.changes
        )
        # One line, so the CLI's stderr stays one clear line.
        super().__init__(
            f"applied migration(s) were changed after they ran: {listed}",
            "restore the original file(s) and put the change in a new migration",
        )


class OutOfOrderMigration(PlanError):
    """A migration below the database's current version was never applied."""

    def __init__(self, versions: Sequence[int], current: int) -> None:
        self.versions = tuple(versions)
        self.current = current
        super().__init__(
            f"migration(s) {', '.join(map(str, self.versions))} were never applied but the "
            f"database is already at version {current}",
            f"renumber them above {current}",
        )


class IrreversibleMigration(PlanError):
    """A downgrade would cross a migration that has no down file."""

    def __init__(self, migrations: Sequence[tuple[int, str]]) -> None:
        self.migrations = tuple(migrations)
        listed = ", ".join(f"{v} ({n})" for v, n in self.migrations)
        super().__init__(
            f"cannot downgrade across migration(s) without a down file: {listed}",
            "write the .down.sql file(s) or choose a higher target",
        )


class InvalidTarget(PlanError):
    """The requested target version is not one the runner can reach."""


class DatabaseTooOld(PlanError):
    """The database is below a squashed baseline whose migration files this release no
    longer ships: it cannot be upgraded here; nothing was changed."""

    def __init__(
        self,
        database: str | None,
        current: int | None,
        floor: int,
        baseline: str,
        missing: Sequence[int],
    ) -> None:
        self.database = database
        #: The database's version (None: it has tables but no ledger).
        self.current = current
        #: The oldest version this release upgrades from.
        self.floor = floor
        #: The versions it would need, whose files are gone.
        self.missing = tuple(missing)
        where = f"{database}: " if database else ""
        at = (
            f"is at version {current}"
            if current is not None
            else "has tables but no bootmigrate ledger"
        )
        listed = ", ".join(map(str, self.missing[:6])) + (", ..." if len(missing) > 6 else "")
        super().__init__(
            f"{where}the database {at}, and this release upgrades databases from version "
            f"{floor} on: migrations up to {floor} were squashed into {baseline!r} and their "
            f"files ({listed}) are no longer shipped. It was left unchanged",
            "open it once with an older release of the app (one that still has those "
            "migrations) and then with this one, or, when its data is not needed, move the "
            "file aside so that a new database is created",
        )


class UnrecognizedDatabase(PlanError):
    """A database without a ledger that its :class:`Baseline` cannot place; nothing changed."""


# -- diagnostic reports turned into test databases ------------------------------------


class ReportError(MigrationError):
    """A report of :func:`bootmigrate.diagnose` that
    :func:`bootmigrate.testing.origin_from_report` cannot build a database from; nothing
    is left at the path it was to write."""


class InvalidReport(ReportError):
    """Not a report this release reads: not JSON, a key missing or of the wrong kind, or
    a ``report_format`` it does not know. The message names the key."""

    def __init__(self, report: str, problem: str, advice: str) -> None:
        #: The report's file, or ``"the report"`` for a dict.
        self.report = report
        super().__init__(f"{report}: {problem}", advice)


class UnreproducibleReport(ReportError):
    """A valid report that synthetic values cannot reproduce: a ``CHECK`` or foreign key
    they cannot satisfy, storage classes a column's type does not keep, or a schema line
    SQLite refuses. The message names the table and column and what to do."""

    def __init__(
        self,
        report: str,
        problem: str,
        advice: str,
        *,
        table: str | None = None,
        column: str | None = None,
    ) -> None:
        #: The report's file, or ``"the report"`` for a dict.
        self.report = report
        #: The table it is about (None: the whole database).
        self.table = table
        #: The column it is about (None: the whole table).
        self.column = column
        super().__init__(f"{report}: {problem}", advice)


# -- running ------------------------------------------------------------------------


class ApplyError(MigrationError):
    """Running against the database failed; the error says what state it is in."""


class StatementError(ApplyError):
    """A statement of a migration failed."""

    def __init__(
        self, filename: str, statement: int, line: int, sqlite_message: str, sql: str
    ) -> None:
        self.filename = filename
        self.statement = statement
        self.line = line
        self.sqlite_message = sqlite_message
        self.sql = sql
        excerpt = " ".join(sql.split())
        if len(excerpt) > 120:
            excerpt = excerpt[:117] + "..."
        super().__init__(
            f"{filename!r} statement {statement} (line {line}) failed: {sqlite_message}",
            f"Statement: {excerpt}",
        )

    @property
    def outcome(self) -> str:
        """What state the failure left the database in (kept for callers; see
        :attr:`~MigrationError.state`)."""
        return self.state or ""


class PythonMigrationError(ApplyError):
    """A Python migration's function raised, or tried to end or leave the run's
    transaction (commit, rollback, ``BEGIN``, closing the connection)."""

    def __init__(self, filename: str, line: int | None, problem: str, advice: str) -> None:
        self.filename = filename
        #: The line of the file the failure happened on (the innermost frame in the
        #: file), or None when it is not known.
        self.line = line
        where = f"{filename!r} line {line}" if line is not None else repr(filename)
        super().__init__(f"{where}: {problem}", advice)


class ForeignKeyViolation(ApplyError):
    """The migration left rows whose foreign keys point nowhere."""

    def __init__(
        self,
        after: str,
        violations: Sequence[tuple[str, int | None, str, int]],
        *,
        step: bool = False,
    ) -> None:
        #: (table, rowid, parent table, foreign-key index) as PRAGMA foreign_key_check reports
        self.violations = tuple(violations)
        shown = "; ".join(f"{t} rowid {r} -> {p}" for t, r, p, _ in self.violations[:10])
        more = len(self.violations) - 10
        if more > 0:
            shown += f"; and {more} more"
        # *step*: a no-transaction file that committed the violations itself.
        found = f"{after} left" if step else f"after {after} the database has"
        super().__init__(
            f"{found} {len(self.violations)} foreign key violation(s): {shown}",
            "fix the migration so it keeps or deletes the child rows",
        )


class DatabaseBusy(ApplyError):
    """Another connection kept the database locked for longer than the timeout."""

    def __init__(self, database: str, timeout: float, holder: str | None = None) -> None:
        self.database = database
        self.timeout = timeout
        super().__init__(
            f"{database}: {holder or 'another connection held the write lock'} for more "
            f"than {timeout:g} s",
            "close the other program or raise the timeout",
        )


class DiskFull(ApplyError):
    """The disk (or the database's page limit) filled up during the run."""

    def __init__(self, database: str, detail: str | None = None) -> None:
        self.database = database
        super().__init__(
            f"{database}: the disk is full ({detail or 'or the database hit its size limit'})",
            "free some space and start again",
        )


class ReadOnlyDatabase(ApplyError):
    """The database file, its directory or the connection cannot write."""

    def __init__(self, database: str, detail: str, advice: str | None = None) -> None:
        self.database = database
        super().__init__(
            f"{database}: cannot write the database ({detail})",
            advice or "check the permissions of the file and of its directory",
        )


class NotADatabase(ApplyError):
    """The file is not a SQLite database, or it is damaged."""

    def __init__(self, database: str, detail: str) -> None:
        self.database = database
        super().__init__(
            f"{database}: {detail}; the file was left as it is",
            "point bootmigrate at the right file, or restore it from a backup",
        )


class DatabaseUnavailable(ApplyError):
    """The database file cannot be opened at all."""

    def __init__(self, database: str, detail: str) -> None:
        self.database = database
        super().__init__(f"{database}: cannot open the database ({detail})")


class LedgerError(ApplyError):
    """The runner's own tables are unreadable, damaged or from a newer bootmigrate."""


class SQLiteTooOld(ApplyError):
    """The running SQLite (its version or its compile options) cannot run a feature that a
    pending migration uses; found before the run begins, so nothing was changed."""

    def __init__(
        self, database: str, feature: str, filename: str, line: int, needed: str, running: str
    ) -> None:
        self.database = database
        #: The feature (``ALTER TABLE ... DROP COLUMN``).
        self.feature = feature
        #: The migration file that uses it.
        self.filename = filename
        #: The line of the statement that uses it.
        self.line = line
        #: What the feature needs (``SQLite 3.35.0``).
        self.needed = needed
        #: The running SQLite (``SQLite 3.31.1``).
        self.running = running
        super().__init__(
            f"{database}: {filename!r} line {line} uses {feature}, which needs {needed}, and "
            f"this app runs {running}. Nothing was changed",
            "ship the app with a newer SQLite (the pysqlite3-binary or sqlean.py package, or a "
            "newer Python), or write the migration without it",
        )


class RestoreError(ApplyError):
    """:func:`bootmigrate.restore` found no backup to put back, or the one it was given is
    not a SQLite database or is the backup of another database; nothing was changed."""

    def __init__(self, database: str, problem: str, advice: str) -> None:
        self.database = database
        super().__init__(f"{database}: {problem}; the database was not changed", advice)
