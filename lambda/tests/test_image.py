"""Spec: the container image. Docker is not needed: the Dockerfile is parsed,
and the image's task root is rebuilt from its COPY lines to prove that every
handler the templates name is present and importable from there alone."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tap import env

LAMBDA_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = LAMBDA_DIR.parent
TEMPLATES_DIR = REPO_ROOT / "cfn" / "templates"
CONTRACT_HANDLERS = {"validator.handler", "migrate.handler", "gate.handler", "prerequisites.handler"}


def instructions() -> list[tuple[str, str]]:
    text = (LAMBDA_DIR / "Dockerfile").read_text()
    logical: list[str] = []
    buffer = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") and not buffer:
            continue
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            logical.append(buffer.strip())
        buffer = ""
    result = []
    for entry in logical:
        keyword, _, rest = entry.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def the(keyword: str) -> list[str]:
    return [rest for k, rest in instructions() if k == keyword]


def test_the_base_image_is_the_aws_lambda_python_image_pinned_by_version_and_digest_for_amd64() -> None:
    (from_line,) = the("FROM")
    assert "--platform=linux/amd64" in from_line
    match = re.search(r"public\.ecr\.aws/lambda/python:(3)\.(\d+)\.(\d{4}\.\d{2}\.\d{2}\.\d{2})@sha256:[0-9a-f]{64}$", from_line)
    assert match, from_line
    assert int(match.group(2)) >= 12, "use a current Python 3.x runtime"


def test_the_default_command_is_the_validator() -> None:
    (cmd,) = the("CMD")
    assert json.loads(cmd) == ["validator.handler"]


def test_the_rds_ca_bundle_lands_where_the_code_looks_for_it() -> None:
    adds = the("ADD")
    assert any(
        a.startswith("https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem ")
        and a.endswith(env.DEFAULTS[env.DB_CA_BUNDLE])
        for a in adds
    ), adds
    assert f"DB_CA_BUNDLE={env.DEFAULTS[env.DB_CA_BUNDLE]}" in the("ENV")
    assert any("chmod 0644" in r and "global-bundle.pem" in r for r in the("RUN"))


def test_requirements_are_installed_into_the_task_root() -> None:
    runs = " ".join(the("RUN"))
    assert "pip install" in runs and "-r ${LAMBDA_TASK_ROOT}/requirements.txt" in runs and "--target ${LAMBDA_TASK_ROOT}" in runs


def requirement_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([A-Za-z0-9_.]+)", line)
        assert match, f"{path.name}: not pinned exactly: {line!r}"
        pins[match.group(1).lower()] = match.group(2)
    return pins


def test_every_requirement_is_pinned_and_the_image_and_tests_agree() -> None:
    image = requirement_pins(LAMBDA_DIR / "requirements.txt")
    dev = requirement_pins(REPO_ROOT / "requirements-dev.txt")
    assert "pymysql" in image
    for name, version in image.items():
        assert dev.get(name) == version, f"{name}: image has {version}, tests have {dev.get(name)}"
    for name in ("pytest", "cfn-lint", "boto3", "botocore", "pymysql"):
        assert name in dev


def test_the_dockerignore_keeps_tests_out_of_the_image() -> None:
    ignored = (LAMBDA_DIR / ".dockerignore").read_text().splitlines()
    assert "tests/" in ignored and "**/__pycache__" in ignored


def template_handlers() -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            image_config = node.get("ImageConfig")
            if isinstance(image_config, dict) and isinstance(image_config.get("Command"), list):
                found.update(str(c) for c in image_config["Command"] if isinstance(c, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(TEMPLATES_DIR.glob("**/*.json")) if TEMPLATES_DIR.is_dir() else []:
        walk(json.loads(path.read_text()))
    return found


def build_task_root(target: Path) -> Path:
    """Copies what the Dockerfile's COPY lines copy, and nothing else."""
    root = target / "var" / "task"
    root.mkdir(parents=True)
    for rest in the("COPY"):
        parts = [p for p in rest.split() if not p.startswith("--")]
        *sources, dest = parts
        assert dest.startswith("${LAMBDA_TASK_ROOT}"), dest
        dest_dir = root / dest.replace("${LAMBDA_TASK_ROOT}", "").strip("/")
        dest_dir.mkdir(parents=True, exist_ok=True)
        for source in sources:
            src = LAMBDA_DIR / source.rstrip("/")
            if src.is_dir():
                # Docker copies a directory's contents, not the directory itself.
                shutil.copytree(src, dest_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(src, dest_dir / src.name)
    return root


def test_every_handler_named_by_the_templates_exists_and_imports_from_the_image_task_root(tmp_path) -> None:
    handlers = sorted(CONTRACT_HANDLERS | template_handlers())
    root = build_task_root(tmp_path)
    assert (root / "migrations" / "001_create_merchants.sql").is_file()
    code = (
        "import importlib, json, sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "out = {}\n"
        f"for name in {handlers!r}:\n"
        "    module, _, attr = name.rpartition('.')\n"
        "    mod = importlib.import_module(module)\n"
        "    assert mod.__file__.startswith(sys.path[0]), mod.__file__\n"
        "    out[name] = callable(getattr(mod, attr, None))\n"
        "print(json.dumps(out))\n"
    )
    # -I: no PYTHONPATH, no current directory, no user site: only the task root and installed packages.
    proc = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {name: True for name in handlers}


def test_the_handler_contract_matches_the_modules() -> None:
    for name in CONTRACT_HANDLERS:
        module = name.split(".")[0]
        assert (LAMBDA_DIR / f"{module}.py").is_file()


def test_the_build_fails_unless_every_handler_module_imports() -> None:
    """GIVEN the Dockerfile's import check THEN it names exactly the handler modules."""
    runs = " ".join(the("RUN"))
    match = re.search(r"python3 -c \"import ([A-Za-z0-9_, ]+); print\('handlers import'\)\"", runs)
    assert match, runs
    imported = {name.strip() for name in match.group(1).split(",")}
    assert imported == {name.split(".")[0] for name in CONTRACT_HANDLERS}


def compute_templates() -> list[Path]:
    return sorted(TEMPLATES_DIR.glob("**/*.json")) if TEMPLATES_DIR.is_dir() else []


@pytest.mark.parametrize(
    "template",
    compute_templates() or [pytest.param(None, marks=pytest.mark.skip(reason="no generated templates in cfn/templates yet"))],
    ids=lambda p: p.name if isinstance(p, Path) else "none",
)
def test_every_environment_variable_a_template_sets_is_one_tap_env_defines(template) -> None:
    doc = json.loads(template.read_text())
    for name, resource in (doc.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::Function":
            continue
        variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        unknown = set(variables) - set(env.ALL_VARIABLES)
        assert not unknown, f"{template.name}:{name} sets variables tap.env does not know: {sorted(unknown)}"
