"""Whether a dependency's failure may pass on a retry, and the error code it carries.

Third-party knowledge only (botocore's and pymysql's exceptions), no tap
module: tap/errors.py asks it about the cause of a DependencyError, tap/aws.py
and tap/db.py about the errors they retry, without importing one another.
"""

from __future__ import annotations

import pymysql
from botocore.exceptions import BotoCoreError, ClientError
from pymysql.constants import CR, ER

# AWS error codes worth another try once botocore's own retries are used up.
AWS_TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceError",
        "InternalServiceErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)

# MySQL errors after which the same statement may succeed on a new attempt.
MYSQL_TRANSIENT_ERROR_CODES = frozenset(
    {
        CR.CR_CONNECTION_ERROR,  # 2002
        CR.CR_CONN_HOST_ERROR,  # 2003 can't connect (instance rebooting, failover)
        CR.CR_SERVER_GONE_ERROR,  # 2006
        CR.CR_SERVER_LOST,  # 2013
        ER.CON_COUNT_ERROR,  # 1040 too many connections
        ER.LOCK_DEADLOCK,  # 1213
        ER.LOCK_WAIT_TIMEOUT,  # 1205
        1290,  # ER_OPTION_PREVENTS_STATEMENT: --read-only, i.e. we hit a writer mid-failover
        1836,  # ER_READ_ONLY_MODE
    }
)


def aws_error_code(exc: BaseException) -> str:
    """The ``Error.Code`` of a botocore ClientError, "" for anything else."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def is_transient_aws(exc: BaseException) -> bool:
    """True for throttling, 5xx and connection failures; False for e.g. AccessDenied."""
    if isinstance(exc, ClientError):
        return aws_error_code(exc) in AWS_TRANSIENT_ERROR_CODES
    return isinstance(exc, BotoCoreError)


def mysql_error_code(exc: BaseException) -> int | None:
    if isinstance(exc, pymysql.MySQLError) and exc.args and isinstance(exc.args[0], int):
        return exc.args[0]
    return None


def is_transient_mysql(exc: BaseException) -> bool:
    if isinstance(exc, pymysql.err.InterfaceError):
        # pymysql's "connection already closed" / broken pipe on a dead socket.
        return True
    if isinstance(exc, pymysql.err.OperationalError):
        return mysql_error_code(exc) in MYSQL_TRANSIENT_ERROR_CODES
    # A socket error surfaces as OSError when the network drops mid-handshake.
    return isinstance(exc, (ConnectionError, TimeoutError))


def is_transient(exc: BaseException) -> bool:
    """Whether an AWS call or a database statement that failed with ``exc`` may succeed if tried again."""
    return is_transient_aws(exc) or is_transient_mysql(exc)
