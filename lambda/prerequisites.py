"""Lambda handler: waits for the secondary region's prerequisites
(Custom::CrossRegionPrerequisites, primary region only; logic in
tap/prerequisites_wait.py).

Everything, including building the AWS clients, happens inside tap.cfn.run
so that any failure still reaches CloudFormation as a response.
"""

from __future__ import annotations

from typing import Any

from tap import cfn, prerequisites_wait
from tap.lambda_context import LambdaContext

_handler = cfn.CustomResourceHandler(prerequisites_wait.RESOURCE)
set_dependencies = _handler.set_dependencies


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _handler(event, context)
