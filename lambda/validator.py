"""Lambda handler: transaction validator (API Gateway HTTP API, payload v2).

Thin on purpose: the app is wired once per container from the environment
(see tap/api.py) and reused by every warm invocation.
"""

from __future__ import annotations

import os
from typing import Any

from tap import api, env
from tap.jsonlog import get_logger

logger = get_logger("validator.handler")

_app: api.ValidatorApp | None = None


def _get_app() -> api.ValidatorApp:
    global _app
    if _app is None:
        _app = api.build_app(os.environ)
    return _app


def set_app(app: api.ValidatorApp | None) -> None:
    """Tests inject an app wired with stubbed clients; None restores the default."""
    global _app
    _app = app


def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        app = _get_app()
    except env.ConfigError:
        logger.exception("validator is misconfigured")
        return api.response(500, {"message": "internal error"})
    except Exception:
        # Building the clients failed: still a JSON 500, not Lambda's own error.
        logger.exception("validator could not start")
        return api.response(500, {"message": "internal error"})
    return app.handle(event, context)
