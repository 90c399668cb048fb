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
        elif (ch == "-" and nxt == "-" and (i + 2 >= n or sql[i + 2] in " \t\r\n")) or ch == "#":
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


# --- what a file may contain -------------------------------------------------------------
#
# MySQL commits DDL implicitly (each statement on its own, and whatever
# transaction was open before it), so a file is one of two kinds:
#
# * a data file: data statements (INSERT, UPDATE, DELETE, REPLACE) and
#   session statements; run in one transaction together with its
#   schema_migrations row, so it applies whole or not at all;
# * a DDL file: DDL statements (CREATE, ALTER, DROP, RENAME, TRUNCATE, and
#   EXECUTE of a prepared statement, which may be DDL) and session
#   statements; each DDL statement commits on its own, and the runner records
#   each one that succeeded (schema_migration_progress), so that a run after a
#   fix skips them and goes on with the first that had not.
#
# Session statements (SET, DO, SELECT, PREPARE, DEALLOCATE) change no data and
# run again on every run. A file that mixes data and DDL statements is
# refused: the DDL would commit the data statements before it, and a failure
# after it would leave the file half applied for good. Transaction control,
# USE, accounts and stored programs are the runner's business or not
# supported, and refused too.

DDL = "ddl"
DATA = "data"
SESSION = "session"

_DDL_WORDS = frozenset({"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "EXECUTE"})
_DATA_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})
_SESSION_WORDS = frozenset({"SET", "DO", "SELECT", "PREPARE", "DEALLOCATE"})
_REFUSED_WORDS = {
    **dict.fromkeys(("START", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "XA"), "the runner manages transactions"),
    **dict.fromkeys(("LOCK", "UNLOCK"), "the runner manages locks"),
    "USE": "the runner selects the database",
    **dict.fromkeys(("GRANT", "REVOKE"), "accounts and privileges are not managed by migrations"),
    "DELIMITER": "stored programs (DELIMITER) are not supported",
}
# CREATE/ALTER/DROP of these is refused: the database is the runner's, the
# rest is not schema, or needs DELIMITER.
_REFUSED_OBJECTS = {
    **dict.fromkeys(("DATABASE", "SCHEMA"), "the runner creates the database"),
    **dict.fromkeys(("USER", "ROLE"), "accounts and privileges are not managed by migrations"),
    **dict.fromkeys(("PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"), "stored programs are not supported"),
    **dict.fromkeys(("SERVER", "TABLESPACE", "LOGFILE"), "not schema"),
}
_WORDS = re.compile(r"[A-Za-z_@]+")
PREVIEW_CHARS = 60


def preview(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def statement_checksum(statement: str) -> str:
    """Of the statement with its whitespace normalised: re-indenting an
    applied statement is not a change."""
    return hashlib.sha256(" ".join(statement.split()).encode("utf-8")).hexdigest()


def classify(statement: str) -> str:
    """DDL, DATA or SESSION; MigrationFileError (the reason) when refused."""
    words = [w.upper() for w in _WORDS.findall(statement[:200])]
    first = words[0] if words else ""
    if first in _REFUSED_WORDS:
        raise MigrationFileError(_REFUSED_WORDS[first])
    if first in ("CREATE", "ALTER", "DROP"):
        for word in words[1:5]:
            if word in _REFUSED_OBJECTS:
                raise MigrationFileError(_REFUSED_OBJECTS[word])
    if first == "SET":
        rest = [w.lstrip("@") for w in words[1:4]]
        if "AUTOCOMMIT" in rest or "TRANSACTION" in rest:
            raise MigrationFileError("the runner manages transactions")
        return SESSION
    if first in _DDL_WORDS:
        return DDL
    if first in _DATA_WORDS:
        return DATA
    if first in _SESSION_WORDS:
        return SESSION
    raise MigrationFileError(f"{first or 'this'} statements are not supported in migrations")


@dataclass(frozen=True)
class Statement:
    number: int  # 1-based, as people count them in the file
    text: str
    kind: str

    @property
    def checksum(self) -> str:
        return statement_checksum(self.text)


@dataclass(frozen=True)
class MigrationPlan:
    migration: MigrationFile
    kind: str  # DDL or DATA
    statements: tuple[Statement, ...]


def plan(migration: MigrationFile) -> MigrationPlan:
    """The file's statements, classified and checked against the rules
    above; MigrationFileError naming the file and the statement otherwise."""
    name = migration.filename
    try:
        texts = split_statements(migration.sql)
    except MigrationFileError as e:
        raise MigrationFileError(f"{name}: {e}") from e
    if not texts:
        raise MigrationFileError(f"{name}: no SQL statement in the file")
    statements = []
    for number, text in enumerate(texts, start=1):
        try:
            kind = classify(text)
        except MigrationFileError as e:
            raise MigrationFileError(f"{name}, statement {number} ({preview(text)}): {e}") from e
        statements.append(Statement(number, text, kind))
    data = [s for s in statements if s.kind == DATA]
    ddl = [s for s in statements if s.kind == DDL]
    if data and ddl:
        d, x = data[0], ddl[0]
        raise MigrationFileError(
            f"{name}, statement {x.number} ({preview(x.text)}): DDL in a file with data statements (statement"
            f" {d.number}, {preview(d.text)}); MySQL commits DDL implicitly, so the data statements could not be"
            " rolled back with the rest of the file: put them in a file of their own"
        )
    return MigrationPlan(migration, DATA if data else DDL, tuple(statements))
