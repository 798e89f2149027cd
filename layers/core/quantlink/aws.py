"""boto3 clients, built lazily and once per process (a cached factory tests can replace).

Endpoints come from botocore's own configuration (AWS_ENDPOINT_URL on the local stack), so the same
code runs against AWS and against the moto server."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient

# Fan-out sends to up to hundreds of queues concurrently, and the local stack serves many
# long-polls from one process: the default pool of 10 connections would serialize them.
_MAX_POOL = 128


@cache
def _session() -> Any:
    import boto3

    from quantlink import faults

    return faults.instrument(boto3.session.Session())  # armed AWS-call faults (tests only) answer here


@cache
def _config() -> Any:
    from botocore.config import Config

    return Config(
        max_pool_connections=_MAX_POOL,
        # Every request is built by typed code (mypy-boto3 stubs): re-validating each one against the
        # service model costs CPU on every call of the hot path, which fan-out makes a hundred of.
        parameter_validation=False,
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        # Long-polls hold the connection up to 20 s.
        read_timeout=25,
    )


@cache
def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _session().client("dynamodb", config=_config())
    return client


@cache
def sqs() -> SQSClient:
    client: SQSClient = _session().client("sqs", config=_config())
    return client


@cache
def ses() -> SESClient:
    client: SESClient = _session().client("ses", config=_config())
    return client


@cache
def push_management(endpoint_url: str) -> Any:
    """API Gateway's management API of the push WebSocket (PostToConnection): the endpoint is the
    stage's own URL (https://{api}.execute-api.{region}.amazonaws.com/{stage}), not a regional one."""
    from botocore.config import Config

    # Pushes are an accelerator: a slow one must not hold the webhook's answer (the queue has it).
    quick = _config().merge(Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 2}))
    return _session().client("apigatewaymanagementapi", endpoint_url=endpoint_url, config=quick)


def reset() -> None:
    """Forget cached clients (tests that switch endpoints or mocks)."""
    for factory in (_session, _config, dynamodb, sqs, ses, push_management):
        factory.cache_clear()
