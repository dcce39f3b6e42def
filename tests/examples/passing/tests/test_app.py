"""The app's own tests use the plugin's fixtures."""


def test_a_database_at_version_one_holds_the_fixture_rows(bootmigrate_database, bootmigrate_schema):
    path = bootmigrate_database(1)
    text = bootmigrate_schema(path).to_text()
    assert "column body TEXT NOT NULL DEFAULT ''" in text
    assert "pinned" not in text


def test_the_head_has_tags(bootmigrate_database, bootmigrate_schema):
    assert "table tags (WITHOUT ROWID)" in bootmigrate_schema(bootmigrate_database()).to_text()
