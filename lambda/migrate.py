"""Lambda handler: schema-migration custom resource (Custom::SchemaMigrations).

Everything, including building the AWS clients, happens inside tap.cfn.run
so that any failure still reaches CloudFormation as a FAILED response.
"""

from __future__ import annotations

from typing import Any

from tap import cfn, migrate_resource

_deps: migrate_resource.Dependencies | None = None


def _get_deps() -> migrate_resource.Dependencies:
    global _deps
    if _deps is None:
        _deps = migrate_resource.Dependencies.default()
    return _deps


def set_dependencies(deps: migrate_resource.Dependencies | None) -> None:
    """Tests inject stubbed clients and a non-TLS connector; None restores the default."""
    global _deps
    _deps = deps


def _apply(event: Any, context: Any) -> cfn.Outcome:
    return migrate_resource.on_create_or_update(event, context, _get_deps())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return cfn.run(
        event,
        context,
        create=_apply,
        update=_apply,
        delete=migrate_resource.on_delete,
        timeout_margin_seconds=migrate_resource.TIMEOUT_MARGIN_SECONDS,
    )
