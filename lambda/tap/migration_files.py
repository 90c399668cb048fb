"""Migration files on disk: discovery, checksums, the MigrationsHash, and a
SQL statement splitter. Standard library only (the template generator and
CI call the hash CLI without the function's dependencies).

File names: ``NNN_snake_case_name.sql`` (three or more digits). The number
is the version; versions are unique and applied in ascending order. Any other
``*.sql`` file in the directory is an error rather than silently skipped.

MigrationsHash algorithm (the TypeScript template generator implements the
same and the tests pin it):

    h = sha256()
    for each *.sql file in the migrations directory, sorted by file name
    (names are ASCII, so code-point order = byte order = JS default sort):
        h.update(file name as UTF-8 bytes)   # base name, e.g. b"001_create_merchants.sql"
        h.update(b"\\0")
        h.update(file content, raw bytes)     # no newline normalisation
        h.update(b"\\0")
    MigrationsHash = h.hexdigest()           # 64 lowercase hex characters

Per-migration checksum (stored in schema_migrations.checksum): sha256 hex of
the file's raw bytes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
FILE_PATTERN = re.compile(r"(?P<version>[0-9]{3,})_(?P<name>[a-z0-9][a-z0-9_]*)\.sql")


class MigrationFileError(Exception):
    user_facing = True


@dataclass(frozen=True)
class MigrationFile:
    version: int
    filename: str
    content: bytes

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def sql(self) -> str:
        return self.content.decode("utf-8")


def sql_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    return sorted((p for p in Path(directory).glob("*.sql") if p.is_file()), key=lambda p: p.name)


def migrations_hash(directory: Path = MIGRATIONS_DIR) -> str:
    digest = hashlib.sha256()
    for path in sql_files(directory):
        digest.update(path.name.encode("utf-8"))
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[MigrationFile]:
    files = sql_files(directory)
    if not files:
        raise MigrationFileError(f"no migration files in {directory}")
    found: dict[int, MigrationFile] = {}
    for path in files:
        match = FILE_PATTERN.fullmatch(path.name)
        if not match:
            raise MigrationFileError(f"{path.name}: migration file names must look like 001_create_things.sql")
        version = int(match.group("version"))
        if version in found:
            raise MigrationFileError(f"{path.name}: version {version} is also used by {found[version].filename}")
        content = path.read_bytes()
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MigrationFileError(f"{path.name}: not UTF-8") from e
        found[version] = MigrationFile(version=version, filename=path.name, content=content)
    return [found[v] for v in sorted(found)]


def split_statements(sql: str) -> list[str]:
    """Splits on ';' outside quotes and comments. Comments are dropped.

    Handles '...', "...", `...` (with backslash and doubled-quote escapes),
    -- and # line comments, and /* */ block comments. DELIMITER (stored
    routines) is not supported; migrations here are plain DDL/DML.
    """
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        nxt = sql[i + 1] if i + 1 < n else ""
        if ch in ("'", '"', "`"):
            quote = ch
            j = i + 1
            while j < n:
                if sql[j] == "\\" and quote != "`":
                    j += 2
                    continue
                if sql[j] == quote:
                    if j + 1 < n and sql[j + 1] == quote:
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                raise MigrationFileError("unterminated quoted string in SQL")
            current.append(sql[i : j + 1])
            i = j + 1
        elif ch == "-" and nxt == "-" and (i + 2 >= n or sql[i + 2] in " \t\r\n"):
            end = sql.find("\n", i)
            i = n if end == -1 else end + 1
            current.append("\n")
        elif ch == "#":
            end = sql.find("\n", i)
            i = n if end == -1 else end + 1
            current.append("\n")
        elif ch == "/" and nxt == "*":
            end = sql.find("*/", i + 2)
            if end == -1:
                raise MigrationFileError("unterminated /* comment in SQL")
            i = end + 2
            current.append(" ")
        elif ch == ";":
            statement = "".join(current).strip()
            if statement:
                statements.append(statement)
            current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    statement = "".join(current).strip()
    if statement:
        statements.append(statement)
    return statements
