"""What tap reads of the Lambda context object.

Only the clock is required; the rest (``aws_request_id``, ``log_stream_name``)
is read with getattr and a fallback, so that a test double or a strange
invocation never turns a log field into a crash.
https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
"""

from __future__ import annotations

from typing import Protocol


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...
