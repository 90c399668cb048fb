"""Lambda handler: schema-migration custom resource (Custom::SchemaMigrations,
logic in tap/migrate_resource.py).

Everything, including building the AWS clients, happens inside tap.cfn.run
so that any failure still reaches CloudFormation as a response.
"""

from __future__ import annotations

from typing import Any

from tap import cfn, migrate_resource
from tap.lambda_context import LambdaContext

_handler = cfn.CustomResourceHandler(migrate_resource.RESOURCE)
set_dependencies = _handler.set_dependencies


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _handler(event, context)
