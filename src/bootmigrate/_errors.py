"""The exception tree of bootmigrate.

Every error the library raises on purpose is a :class:`MigrationError`::

    MigrationError
    ├── UsageError                  the caller misused the API (fix the calling code)
    ├── SourceError                 the migration files are wrong (fix the files)
    │   ├── SourceNotFound
    │   ├── InvalidFileName
    │   ├── DuplicateMigration
    │   ├── NameMismatch
    │   ├── OrphanDownFile
    │   ├── EncodingError
    │   ├── EmptyMigration
    │   ├── TransactionControlError
    │   └── DirectiveError
    ├── PlanError                   the files and the database disagree
    │   ├── DatabaseTooNew
    │   ├── ModifiedMigration
    │   ├── OutOfOrderMigration
    │   ├── IrreversibleMigration
    │   └── InvalidTarget
    └── ApplyError                  running against the database failed; nothing was changed
        ├── StatementError
        ├── ForeignKeyViolation
        ├── DatabaseBusy
        ├── DiskFull
        ├── ReadOnlyDatabase
        ├── NotADatabase
        ├── DatabaseUnavailable
        └── LedgerError

Lower-level :mod:`sqlite3` errors are translated into this tree at one boundary
(:mod:`bootmigrate._database`) and chained with ``from``, so callers catch one type.
Each message says what is wrong, where, and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence


class MigrationError(Exception):
    """Base class of every error bootmigrate raises on purpose."""


# -- misuse -------------------------------------------------------------------------


class UsageError(MigrationError):
    """The API was called in a way it does not support (a bug in the calling code)."""


# -- the migration files ------------------------------------------------------------


class SourceError(MigrationError):
    """The migration files are wrong: fix the files, nothing was run."""


class SourceNotFound(SourceError):
    """The migration source (package resource folder or directory) does not exist."""


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
        if suggestion:
            message += f"; rename it to {suggestion!r}"
        super().__init__(message)


class DuplicateMigration(SourceError):
    """Two files claim the same version and direction."""

    def __init__(self, version: int, filenames: Sequence[str]) -> None:
        self.version = version
        self.filenames = tuple(filenames)
        super().__init__(
            f"version {version} has more than one migration file: "
            f"{', '.join(map(repr, self.filenames))}; each version needs exactly one "
            "up file, so renumber or remove all but one"
        )


class NameMismatch(SourceError):
    """The up and the down file of one version have different names."""

    def __init__(self, version: int, up_file: str, down_file: str) -> None:
        self.version = version
        self.up_file = up_file
        self.down_file = down_file
        super().__init__(
            f"version {version}: the up file {up_file!r} and the down file {down_file!r} "
            "have different names; rename the down file to match its up file"
        )


class OrphanDownFile(SourceError):
    """A down file has no up file of the same version."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        super().__init__(
            f"{filename!r} is a down file without an up file of the same version; "
            "add the up file or remove the down file"
        )


class EncodingError(SourceError):
    """A migration file is not valid UTF-8."""

    def __init__(self, filename: str, detail: str) -> None:
        self.filename = filename
        super().__init__(f"{filename!r} is not valid UTF-8 ({detail}); save the file as UTF-8")


class EmptyMigration(SourceError):
    """An up file holds no SQL statement (only whitespace or comments)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        super().__init__(
            f"{filename!r} contains no SQL statement; write the migration's statements "
            "in it or remove the file"
        )


class TransactionControlError(SourceError):
    """A transactional migration contains BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ... ."""

    def __init__(self, filename: str, line: int, keyword: str) -> None:
        self.filename = filename
        self.line = line
        self.keyword = keyword
        super().__init__(
            f"{filename!r} line {line}: {keyword} is transaction control, and bootmigrate "
            "runs every migration inside its own transaction; remove the statement, or put "
            "'-- bootmigrate: no-transaction' on the file's first line if the file must "
            "manage its own transaction"
        )


class DirectiveError(SourceError):
    """A ``-- bootmigrate:`` directive is unknown or in the wrong place."""

    def __init__(self, filename: str, line: int, problem: str) -> None:
        self.filename = filename
        self.line = line
        super().__init__(f"{filename!r} line {line}: {problem}")


# -- files versus database ----------------------------------------------------------


class PlanError(MigrationError):
    """The migration files and the database's ledger disagree; nothing was changed."""


class DatabaseTooNew(PlanError):
    """The database holds versions this app has no files for: it was migrated by a newer release."""

    def __init__(self, versions: Sequence[int], head: int | None) -> None:
        self.versions = tuple(versions)
        self.head = head
        listed = ", ".join(map(str, self.versions))
        if head is not None and any(v < head for v in self.versions):
            # Not a newer release: a file below the head vanished, and "upgrade the app"
            # would be the wrong advice.
            super().__init__(
                f"the database holds version(s) {listed}, which this app has no migration "
                f"file for although it knows migrations up to {head}: a migration file was "
                "deleted or renumbered after it was applied; restore it as it was"
            )
            return
        super().__init__(
            f"the database is newer than this app: it holds version(s) {listed}, "
            f"and this app knows migrations up to {head if head is not None else 'none'}; "
            "upgrade the app (or restore the database from a backup made for this release)"
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
            f"applied migration(s) were changed after they ran: {listed}; restore the "
            "original file(s) and put the change in a new migration"
        )


class OutOfOrderMigration(PlanError):
    """A migration below the database's current version was never applied."""

    def __init__(self, versions: Sequence[int], current: int) -> None:
        self.versions = tuple(versions)
        self.current = current
        super().__init__(
            f"migration(s) {', '.join(map(str, self.versions))} were never applied but the "
            f"database is already at version {current}; renumber them above {current}"
        )


class IrreversibleMigration(PlanError):
    """A downgrade would cross a migration that has no down file."""

    def __init__(self, migrations: Sequence[tuple[int, str]]) -> None:
        self.migrations = tuple(migrations)
        listed = ", ".join(f"{v} ({n})" for v, n in self.migrations)
        super().__init__(
            f"cannot downgrade across migration(s) without a down file: {listed}; "
            "write the .down.sql file(s) or choose a higher target"
        )


class InvalidTarget(PlanError):
    """The requested target version is not one the runner can reach."""


# -- running ------------------------------------------------------------------------


class ApplyError(MigrationError):
    """Running against the database failed; the run was rolled back."""


class StatementError(ApplyError):
    """A statement of a migration failed; everything in the run was rolled back."""

    def __init__(
        self,
        filename: str,
        statement: int,
        line: int,
        sqlite_message: str,
        sql: str,
        outcome: str = "the run was rolled back and the database is unchanged",
    ) -> None:
        self.filename = filename
        self.statement = statement
        self.line = line
        self.sqlite_message = sqlite_message
        self.sql = sql
        #: What state the failure left the database in (a no-transaction step differs).
        self.outcome = outcome
        excerpt = " ".join(sql.split())
        if len(excerpt) > 120:
            excerpt = excerpt[:117] + "..."
        super().__init__(
            f"{filename!r} statement {statement} (line {line}) failed: {sqlite_message}; "
            f"{outcome}. Statement: {excerpt}"
        )


class ForeignKeyViolation(ApplyError):
    """The migration left rows whose foreign keys point nowhere."""

    def __init__(self, after: str, violations: Sequence[tuple[str, int | None, str, int]]) -> None:
        #: (table, rowid, parent table, foreign-key index) as PRAGMA foreign_key_check reports
        self.violations = tuple(violations)
        shown = "; ".join(f"{t} rowid {r} -> {p}" for t, r, p, _ in self.violations[:10])
        more = len(self.violations) - 10
        if more > 0:
            shown += f"; and {more} more"
        super().__init__(
            f"after {after} the database has {len(self.violations)} foreign key "
            f"violation(s): {shown}; the run was rolled back. Fix the migration so it "
            "keeps or deletes the child rows"
        )


class DatabaseBusy(ApplyError):
    """Another connection held the database's write lock for longer than the timeout."""

    def __init__(self, database: str, timeout: float) -> None:
        self.database = database
        self.timeout = timeout
        super().__init__(
            f"{database}: another connection held the write lock for more than "
            f"{timeout:g} s; close the other program or raise the timeout"
        )


class DiskFull(ApplyError):
    """The disk (or the database's page limit) filled up during the run."""

    def __init__(self, database: str, detail: str | None = None) -> None:
        self.database = database
        super().__init__(
            f"{database}: the disk is full ({detail}); nothing was changed. Free some space "
            "and start again"
            if detail
            else f"{database}: the disk is full (or the database hit its size limit); the run "
            "was rolled back and the database is unchanged. Free some space and start again"
        )


class ReadOnlyDatabase(ApplyError):
    """The database file or its directory cannot be written."""

    def __init__(self, database: str, detail: str) -> None:
        self.database = database
        super().__init__(
            f"{database}: cannot write the database ({detail}); check the permissions of "
            "the file and of its directory"
        )


class NotADatabase(ApplyError):
    """The file is not a SQLite database, or it is damaged."""

    def __init__(self, database: str, detail: str) -> None:
        self.database = database
        super().__init__(
            f"{database}: {detail}; the file was left as it is. Point bootmigrate at the "
            "right file, or restore it from a backup"
        )


class DatabaseUnavailable(ApplyError):
    """The database file cannot be opened at all."""

    def __init__(self, database: str, detail: str) -> None:
        self.database = database
        super().__init__(f"{database}: cannot open the database ({detail})")


class LedgerError(ApplyError):
    """The runner's own ledger table is unreadable or from a newer bootmigrate."""
