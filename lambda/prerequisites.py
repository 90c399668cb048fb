"""Lambda handler: waits for the secondary region's prerequisites
(Custom::CrossRegionPrerequisites, primary region only).

Everything, including building the AWS clients, happens inside tap.cfn.run
so that any failure still reaches CloudFormation as a response.
"""

from __future__ import annotations

from typing import Any

from tap import cfn, prerequisites

# A lambda: Dependencies.default is looked up at first use, so a test that replaces it is honoured.
_resource = cfn.CustomResource(
    lambda: prerequisites.Dependencies.default(),
    prerequisites.on_create_or_update,
    prerequisites.on_delete,
    prerequisites.TIMEOUT_MARGIN_SECONDS,
)
set_dependencies = _resource.set_dependencies


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _resource.handle(event, context)
