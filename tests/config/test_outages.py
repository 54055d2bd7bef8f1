"""`config.outages.unreachable`: one classification of broker and Redis refusals."""

import pytest
from amqp import exceptions as amqp_errors
from kombu.exceptions import EncodeError, OperationalError
from redis import exceptions as redis_errors

from config.outages import unreachable


def wrapped(original: Exception) -> OperationalError:
    """kombu re-raises a client's error as its own, `from` the original."""
    try:
        try:
            raise original
        except Exception as exc:
            raise OperationalError("Error 111 connecting to 10.0.0.5:6379.") from exc
    except OperationalError as outer:
        return outer


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (amqp_errors.ConnectionForced("broker shutdown"), "connection closed by the broker"),
        (amqp_errors.NotAllowed("vhost /x not found"), "not allowed (virtual host or permissions)"),
        (amqp_errors.AccessRefused("login refused"), "access refused"),
        (redis_errors.AuthenticationError("invalid password"), "authentication refused"),
        (redis_errors.BusyLoadingError("loading"), "loading its data"),
        (wrapped(ConnectionRefusedError(111, "refused")), "connection refused"),
        (wrapped(redis_errors.AuthenticationError("x")), "authentication refused"),
        (OperationalError("gone"), "unreachable (OperationalError)"),
        (redis_errors.ConnectionError("Error 111 connecting to 10.0.0.5"), "unreachable"),
    ],
)
def test_every_broker_refusal_is_an_outage_with_a_reason(exc, reason):
    assert reason in unreachable(exc)


def test_the_reason_never_carries_the_errors_text():
    assert "10.0.0.5" not in unreachable(wrapped(ConnectionRefusedError(111, "10.0.0.5")))


@pytest.mark.parametrize("exc", [EncodeError("not JSON"), KeyError("x"), ValueError("bad id")])
def test_a_bug_is_not_an_outage(exc):
    assert unreachable(exc) is None
