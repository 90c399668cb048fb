"""Lambda handler: deployment gate custom resource (Custom::DeploymentGate).

Everything, including building the AWS clients, happens inside tap.cfn.run
so that any failure still reaches CloudFormation as a response.
"""

from __future__ import annotations

from typing import Any

from tap import cfn, deploy_gate

# A lambda: Dependencies.default is looked up at first use, so a test that replaces it is honoured.
_resource = cfn.CustomResource(
    lambda: deploy_gate.Dependencies.default(),
    deploy_gate.on_create_or_update,
    deploy_gate.on_delete,
    deploy_gate.TIMEOUT_MARGIN_SECONDS,
)
set_dependencies = _resource.set_dependencies


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _resource.handle(event, context)
