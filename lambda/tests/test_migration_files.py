"""Spec: migration files, their checksums, the MigrationsHash (which the
TypeScript template generator must reproduce) and the SQL splitter."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tap.migration_files import (
    MIGRATIONS_DIR,
    MigrationFileError,
    discover,
    migrations_hash,
    split_statements,
)

LAMBDA_DIR = Path(__file__).resolve().parent.parent


def write(directory: Path, files: dict[str, bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)
    return directory


def test_the_hash_algorithm_is_pinned_to_a_known_value(tmp_path) -> None:
    """GIVEN two tiny files WHEN hashed THEN the documented algorithm's value
    comes out (TypeScript must produce this same literal)."""
    d = write(tmp_path / "m", {"002_b.sql": b"SELECT 2;\n", "001_a.sql": b"SELECT 1;\n"})
    spelled_out = hashlib.sha256(b"001_a.sql\0SELECT 1;\n\0" + b"002_b.sql\0SELECT 2;\n\0").hexdigest()
    assert migrations_hash(d) == spelled_out == "f1f0c5753155836d95334a1535b398a66d81cd4270f7b1aaa86c7ca5f88320cf"


def test_the_hash_changes_with_content_name_or_a_new_file_and_ignores_other_files(tmp_path) -> None:
    base = migrations_hash(write(tmp_path / "a", {"001_a.sql": b"x"}))
    assert migrations_hash(write(tmp_path / "b", {"001_a.sql": b"y"})) != base
    assert migrations_hash(write(tmp_path / "c", {"001_b.sql": b"x"})) != base
    assert migrations_hash(write(tmp_path / "d", {"001_a.sql": b"x", "002_b.sql": b""})) != base
    assert migrations_hash(write(tmp_path / "e", {"001_a.sql": b"x", "README.md": b"doc"})) == base
    # name/content boundaries are unambiguous thanks to the NUL separators
    assert migrations_hash(write(tmp_path / "f", {"001_a.sql": b"xy"})) != migrations_hash(
        write(tmp_path / "g", {"001_a.sql": b"x", "001_a.sqly": b""})
    )


def test_the_hash_does_not_normalise_line_endings(tmp_path) -> None:
    assert migrations_hash(write(tmp_path / "a", {"001_a.sql": b"x\n"})) != migrations_hash(
        write(tmp_path / "b", {"001_a.sql": b"x\r\n"})
    )


def test_the_cli_prints_the_same_hash_as_the_function() -> None:
    out = subprocess.run(
        [sys.executable, str(LAMBDA_DIR / "migrations_hash.py")], capture_output=True, text=True, check=True, cwd="/"
    ).stdout.strip()
    assert out == migrations_hash(MIGRATIONS_DIR)
    assert len(out) == 64 and all(c in "0123456789abcdef" for c in out)


def test_the_cli_accepts_a_directory_and_rejects_a_missing_one(tmp_path) -> None:
    d = write(tmp_path / "m", {"001_a.sql": b"x"})

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(LAMBDA_DIR / "migrations_hash.py"), *args], capture_output=True, text=True)

    assert run(str(d)).stdout.strip() == migrations_hash(d)
    assert run(str(tmp_path / "missing")).returncode == 2


def test_the_shipped_migrations_create_merchants_and_transactions_in_order() -> None:
    migrations = discover()
    assert [m.version for m in migrations] == sorted(m.version for m in migrations)
    sql = " ".join(m.sql for m in migrations)
    assert "CREATE TABLE IF NOT EXISTS merchants" in sql and "CREATE TABLE IF NOT EXISTS transactions" in sql
    for m in migrations:
        assert m.checksum == hashlib.sha256((MIGRATIONS_DIR / m.filename).read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no migration files"),
        ({"1_a.sql": b""}, "1_a.sql"),
        ({"001_A.sql": b""}, "001_A.sql"),
        ({"001-a.sql": b""}, "001-a.sql"),
        ({"001_a.sql": b"", "0001_b.sql": b""}, "version 1"),
        ({"001_a.sql": b"\xff\xfe"}, "UTF-8"),
    ],
)
def test_bad_migration_directories_are_errors_not_silently_skipped(tmp_path, files, message) -> None:
    d = write(tmp_path / "m", files)
    with pytest.raises(MigrationFileError, match=message):
        discover(d)


@pytest.mark.parametrize(
    ("sql", "statements"),
    [
        ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
        ("SELECT 1", ["SELECT 1"]),
        ("  ;;  ", []),
        ("SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", "SELECT 2"]),
        ('SELECT "a;b"', ['SELECT "a;b"']),
        ("SELECT `we;ird`", ["SELECT `we;ird`"]),
        ("SELECT 'it''s; fine'", ["SELECT 'it''s; fine'"]),
        ("SELECT 'back\\'slash;'", ["SELECT 'back\\'slash;'"]),
        ("-- comment; here\nSELECT 1;", ["SELECT 1"]),
        ("# hash comment; here\nSELECT 1;", ["SELECT 1"]),
        ("/* block; comment */ SELECT 1;", ["SELECT 1"]),
        ("SELECT 1 -- trailing; comment", ["SELECT 1"]),
        ("SELECT 5--1", ["SELECT 5--1"]),  # '--' without a space is an operator, not a comment
        ("SELECT '-- not a comment;'", ["SELECT '-- not a comment;'"]),
    ],
)
def test_statement_splitter(sql, statements) -> None:
    assert split_statements(sql) == statements


@pytest.mark.parametrize("sql", ["SELECT 'open", "SELECT 1 /* open"])
def test_statement_splitter_rejects_unterminated_input(sql) -> None:
    with pytest.raises(MigrationFileError):
        split_statements(sql)
