"""The planner as a pure function: migrations and ledger rows in, a plan out. No disk, no DB."""

from __future__ import annotations

import pytest

from bootmigrate import (
    AppliedMigration,
    DatabaseTooNew,
    InvalidTarget,
    IrreversibleMigration,
    Migration,
    ModifiedMigration,
    OutOfOrderMigration,
    PlanError,
    Script,
    plan,
)
from bootmigrate._plan import plan_downgrade


def mig(version: int, name: str | None = None, *, sql: str | None = None, down: bool = True):
    name = name or f"m{version}"
    stem = f"{version:04d}_{name}"
    up = Script.from_text(f"{stem}.up.sql", sql or f"CREATE TABLE t{version} (x);")
    down_script = Script.from_text(f"{stem}.down.sql", f"DROP TABLE t{version};") if down else None
    return Migration(version, name, up, down_script)


def row(migration: Migration, *, name: str | None = None, checksum: str | None = None):
    return AppliedMigration(
        version=migration.version,
        name=name or migration.name,
        checksum=checksum or migration.checksum,
        applied_at="2026-01-02T03:04:05.678Z",
        execution_ms=1.5,
        bootmigrate_version="0.1.0",
    )


def ghost(version: int, *, compatible: bool = False) -> AppliedMigration:
    """A ledger row with no file: applied by a newer release of the app."""
    return AppliedMigration(version, f"newer_{version}", "f" * 64, "2026", 1.0, "9.9", compatible)


M1, M2, M3, M4, M5 = (mig(v) for v in (1, 2, 3, 4, 5))
ALL = [M1, M2, M3, M4, M5]


def versions(migrations) -> list[int]:
    return [m.version for m in migrations]


def test_fresh_database_everything_pending() -> None:
    result = plan(ALL, [])
    assert (result.current, result.head) == (None, 5)
    assert versions(result.pending) == [1, 2, 3, 4, 5]
    assert (result.unknown, result.modified, result.out_of_order) == ((), (), ())
    result.check()


def test_partly_applied() -> None:
    result = plan(ALL, [row(M1), row(M2)])
    assert (result.current, result.head) == (2, 5)
    assert versions(result.pending) == [3, 4, 5]
    assert [a.version for a in result.applied] == [1, 2]
    result.check()


def test_up_to_date() -> None:
    result = plan(ALL, [row(m) for m in ALL])
    assert (result.current, result.head, result.pending) == (5, 5, ())
    result.check()


def test_ledger_order_does_not_matter() -> None:
    assert plan(ALL, [row(M2), row(M1)]) == plan(ALL, [row(M1), row(M2)])
    # nor the order of the migrations
    assert versions(plan(list(reversed(ALL)), [row(M1)]).pending) == [2, 3, 4, 5]


def test_no_migrations_at_all() -> None:
    result = plan([], [])
    assert (result.current, result.head, result.pending) == (None, None, ())
    result.check()


def test_unknown_versions_database_too_new() -> None:
    result = plan([M1, M2], [row(M1), row(M2), ghost(3), ghost(4)])
    assert result.unknown_versions == (3, 4)
    assert result.current == 4
    assert result.pending == ()
    assert not result.newer_compatible
    with pytest.raises(DatabaseTooNew) as info:
        result.check()
    assert info.value.versions == (3, 4)
    assert str(info.value) == (
        "the database is newer than this app: it holds version(s) 3 (newer_3), 4 (newer_4), "
        "and this app knows migrations up to 2; upgrade the app (or restore the database "
        "from a backup made for this release)"
    )
    # Named by the database, and from a working copy: the newest file may have been deleted.
    with pytest.raises(DatabaseTooNew) as info:
        result.check(database="/home/me/app.db", working_copy="/src/app/migrations")
    assert str(info.value) == (
        "/home/me/app.db: the database is newer than this app: it holds version(s) 3 "
        "(newer_3), 4 (newer_4), and this app knows migrations up to 2; upgrade the app (or "
        "restore the database from a backup made for this release), or restore the deleted "
        "migration file in '/src/app/migrations'"
    )
    assert info.value.names == ("newer_3", "newer_4")
    assert info.value.database == "/home/me/app.db"


def test_unknown_but_all_backward_compatible() -> None:
    result = plan([M1, M2], [row(M1), row(M2), ghost(3, compatible=True)])
    assert result.newer_compatible
    result.check()  # the default allows it
    with pytest.raises(DatabaseTooNew):
        result.check(allow_compatible=False)


def test_one_incompatible_unknown_is_enough_to_refuse() -> None:
    result = plan([M1], [row(M1), ghost(2, compatible=True), ghost(3)])
    assert not result.newer_compatible
    with pytest.raises(DatabaseTooNew):
        result.check()


def test_modified_checksum() -> None:
    edited = mig(2, sql="CREATE TABLE t2 (x, y);")
    result = plan([M1, edited, M3], [row(M1), row(M2)])
    assert [(m.applied.version, m.migration.checksum) for m in result.modified] == [
        (2, edited.checksum)
    ]
    with pytest.raises(ModifiedMigration) as info:
        result.check()
    assert info.value.changes == ((2, "m2", M2.checksum, "m2", edited.checksum),)
    message = str(info.value)
    assert "version 2" in message
    assert M2.checksum[:12] in message
    assert edited.checksum[:12] in message
    assert "put the change in a new migration" in message


def test_modified_name_same_checksum() -> None:
    # The legacy store renumbered and renamed shipped migrations: a rename is a change too.
    renamed = mig(2, "create_things")
    assert renamed.checksum == M2.checksum
    result = plan([M1, renamed], [row(M1), row(M2)])
    with pytest.raises(ModifiedMigration) as info:
        result.check()
    message = str(info.value)
    assert "applied as 'm2'" in message
    assert "file is now 'create_things'" in message


def test_modified_is_reported_before_anything_else() -> None:
    edited = mig(1, sql="CREATE TABLE other (x);")
    result = plan([edited], [row(M1), ghost(7)])
    with pytest.raises(ModifiedMigration):
        result.check()


def test_out_of_order() -> None:
    # 0002 arrived (a merge) after the database reached 3.
    result = plan(ALL, [row(M1), row(M3)])
    assert versions(result.out_of_order) == [2]
    assert versions(result.pending) == [4, 5]  # never 2: it would run after 3
    with pytest.raises(OutOfOrderMigration) as info:
        result.check()
    assert info.value.versions == (2,)
    assert "already at version 3" in str(info.value)
    assert "renumber them above 3" in str(info.value)


@pytest.mark.parametrize(
    ("applied", "target", "pending"),
    [
        ([], 3, [1, 2, 3]),
        ([M1], 1, []),  # the target is the current version: nothing to do
        ([M1], 4, [2, 3, 4]),
        ([M1, M2], 5, [3, 4, 5]),
    ],
)
def test_valid_targets(applied: list[Migration], target: int, pending: list[int]) -> None:
    result = plan(ALL, [row(m) for m in applied], target)
    assert versions(result.pending) == pending
    assert result.head == 5


def test_target_below_current() -> None:
    with pytest.raises(InvalidTarget) as info:
        plan(ALL, [row(M1), row(M2), row(M3)], target=2)
    assert isinstance(info.value, PlanError)
    assert "below the database's version 3" in str(info.value)
    assert "downgrade" in str(info.value)


def test_unknown_target() -> None:
    with pytest.raises(InvalidTarget) as info:
        plan([M1, M2, M4], [], target=3)
    assert "target version 3 is not one of the migrations (1, 2, 4)" in str(info.value)


def test_unknown_target_many_versions_abbreviated() -> None:
    many = [mig(v) for v in range(1, 21)]
    with pytest.raises(InvalidTarget, match="1 to 20"):
        plan(many, [], target=99)


# -- plan_downgrade --------------------------------------------------------------


def test_downgrade_newest_first() -> None:
    steps = plan_downgrade(ALL, [row(m) for m in ALL], 2)
    assert versions(steps) == [5, 4, 3]


def test_downgrade_to_zero_undoes_everything() -> None:
    assert versions(plan_downgrade(ALL, [row(M1), row(M2)], 0)) == [2, 1]


def test_downgrade_to_current_does_nothing() -> None:
    assert plan_downgrade(ALL, [row(M1), row(M2)], 2) == ()


def test_downgrade_across_irreversible_names_it() -> None:
    no_down = mig(3, "drop_legacy", down=False)
    with pytest.raises(IrreversibleMigration) as info:
        plan_downgrade([M1, M2, no_down, M4], [row(M1), row(M2), row(no_down), row(M4)], 1)
    assert info.value.migrations == ((3, "drop_legacy"),)
    assert "3 (drop_legacy)" in str(info.value)
    assert "write the .down.sql file" in str(info.value)


def test_downgrade_above_the_irreversible_one_is_fine() -> None:
    no_down = mig(2, down=False)
    assert versions(plan_downgrade([M1, no_down, M3], [row(M1), row(no_down), row(M3)], 2)) == [3]


def test_downgrade_of_unknown_versions() -> None:
    with pytest.raises(DatabaseTooNew) as info:
        plan_downgrade([M1, M2], [row(M1), row(M2), ghost(3), ghost(4)], 1)
    assert info.value.versions == (3, 4)


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        (-1, "negative"),
        (6, "above the database's version 2"),
        # 3 is not applied; 2 is the only thing between
        (3, "above the database's version 2"),
    ],
)
def test_downgrade_invalid_targets(target: int, fragment: str) -> None:
    with pytest.raises(InvalidTarget, match=fragment):
        plan_downgrade(ALL, [row(M1), row(M2)], target)


def test_downgrade_target_never_applied() -> None:
    # 1 and 3 applied, 2 skipped (out of order): 2 is not a state the database was in.
    with pytest.raises(InvalidTarget, match="never applied"):
        plan_downgrade(ALL, [row(M1), row(M3)], 2)


def test_an_applied_version_below_the_head_without_a_file_was_deleted() -> None:
    # Not a newer database: 0002's file vanished (deleted, or renumbered as legacy did).
    result = plan([M1, M3], [row(M1), row(M2), row(M3)])
    assert result.unknown_versions == (2,)
    with pytest.raises(DatabaseTooNew) as info:
        result.check()
    message = str(info.value)
    assert "version(s) 2" in message
    assert "up to 3" in message
    assert "deleted or renumbered" in message
    assert "newer than this app" not in message
    assert "upgrade the app" not in message
