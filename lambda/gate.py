"""Lambda handler: deployment gate custom resource (Custom::DeploymentGate).

Everything, including building the AWS clients, happens inside tap.cfn.run
so that any failure still reaches CloudFormation as a response.
"""

from __future__ import annotations

from typing import Any

from tap import cfn, deploy_gate

_deps: deploy_gate.Dependencies | None = None


def _get_deps() -> deploy_gate.Dependencies:
    global _deps
    if _deps is None:
        _deps = deploy_gate.Dependencies.default()
    return _deps


def set_dependencies(deps: deploy_gate.Dependencies | None) -> None:
    """Tests inject stubbed clients, a fake clock and sleep; None restores the default."""
    global _deps
    _deps = deps


def _create_or_update(event: Any, context: Any) -> cfn.Outcome:
    return deploy_gate.on_create_or_update(event, context, _get_deps())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return cfn.run(
        event,
        context,
        create=_create_or_update,
        update=_create_or_update,
        delete=deploy_gate.on_delete,
        timeout_margin_seconds=deploy_gate.TIMEOUT_MARGIN_SECONDS,
    )
