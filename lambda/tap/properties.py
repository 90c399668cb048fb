"""Reading custom resource properties.

CloudFormation sends every scalar property as a string (a Number parameter
arrives as "3"), lists as lists of strings and maps as objects:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html
Tests also pass ints, which read the same as their strings; booleans are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tap.errors import UserFacingError

WHOLE_NUMBER_PATTERN = re.compile(r"[0-9]+")
# us-east-1, eu-west-1, us-gov-west-1, cn-north-1, ap-southeast-5 ...
REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")


class InvalidProperties(UserFacingError):
    pass


def scalar(raw: object) -> str:
    """The property as CloudFormation would send it, or "" when it is not a scalar."""
    return str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""


def is_unset(raw: object) -> bool:
    # CloudFormation renders an unset optional value (AWS::NoValue aside) as "".
    return raw is None or raw == "" or raw == [] or raw == {}


def whole_number(props: Mapping[str, Any], key: str, maximum: int, unit: str = "seconds") -> int:
    raw = props.get(key)
    text = scalar(raw)
    if not WHOLE_NUMBER_PATTERN.fullmatch(text) or int(text) > maximum:
        raise InvalidProperties(f"{key} must be a whole number of {unit} from 0 to {maximum}, got {raw!r}")
    return int(text)


def region(props: Mapping[str, Any], key: str, *, required: bool) -> str:
    """A region code, or "" when optional and unset."""
    raw = props.get(key)
    if is_unset(raw) and not required:
        return ""
    value = scalar(raw).strip()
    if not REGION_PATTERN.fullmatch(value):
        raise InvalidProperties(f"{key} must be a region code such as eu-west-1, got {raw!r}")
    return value
