"""The contract between the committed templates and the code: the variables
ComputeStack sets on each function are the ones the code reads, and the gate
takes exactly the bake values the root's BakeMinutes parameter allows."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tap import env
from tap.deploy_gate import GateProperties, InvalidProperties

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


ROOT_TEMPLATE = COMPUTE_TEMPLATE.parent / "TapStack.json"


@pytest.mark.parametrize("value", ["auto", "0", "1", "9", "10", "11", "-1", "2.5", "03", "Auto", "auto ", ""])
def test_the_gate_takes_exactly_the_bake_values_the_root_parameter_allows(value: str) -> None:
    if not ROOT_TEMPLATE.is_file():
        pytest.skip(f"{ROOT_TEMPLATE} is missing: run `npm run synth`")
    parameter = json.loads(ROOT_TEMPLATE.read_text())["Parameters"]["BakeMinutes"]
    allowed_by_template = re.fullmatch(parameter["AllowedPattern"], value) is not None
    props = {"AlarmNames": ["a"], "BakeMinutes": value, "MetricPublishDelaySeconds": "60"}
    try:
        GateProperties.parse(props)
        taken_by_gate = True
    except InvalidProperties:
        taken_by_gate = False
    assert taken_by_gate == allowed_by_template
