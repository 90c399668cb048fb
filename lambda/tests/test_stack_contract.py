"""The environment contract between ComputeStack and the code: the variables the
committed template sets on each function are the ones the code reads."""

import json
from pathlib import Path
from typing import Any

import pytest

from tap import env

COMPUTE_TEMPLATE = Path(__file__).resolve().parents[2] / "cfn" / "templates" / "ComputeStack.json"


def function_variables() -> dict[str, set[str]]:
    if not COMPUTE_TEMPLATE.is_file():
        pytest.skip(f"{COMPUTE_TEMPLATE} is missing: run `npm run synth`")
    resources: dict[str, Any] = json.loads(COMPUTE_TEMPLATE.read_text())["Resources"]
    return {
        logical_id: set(resource["Properties"].get("Environment", {}).get("Variables", {}))
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def test_the_validator_gets_exactly_the_variables_the_code_reads_from_the_stack() -> None:
    assert function_variables()["ValidatorFunction"] == set(env.COMPUTE_STACK_VARIABLES)


def test_every_function_gets_only_variables_the_code_knows() -> None:
    unknown = {fn: sorted(names - set(env.ALL_VARIABLES)) for fn, names in function_variables().items() if names - set(env.ALL_VARIABLES)}
    assert unknown == {}
