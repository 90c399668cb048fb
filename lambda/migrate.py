"""Lambda handler: schema-migration custom resource (Custom::SchemaMigrations).

Everything, including building the AWS clients, happens inside tap.cfn.run
so that any failure still reaches CloudFormation as a FAILED response.
"""

from __future__ import annotations

from typing import Any

from tap import cfn, migrate_resource

# A lambda: Dependencies.default is looked up at first use, so a test that replaces it is honoured.
_resource = cfn.CustomResource(
    lambda: migrate_resource.Dependencies.default(),
    migrate_resource.on_create_or_update,
    migrate_resource.on_delete,
    migrate_resource.TIMEOUT_MARGIN_SECONDS,
)
set_dependencies = _resource.set_dependencies


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _resource.handle(event, context)
