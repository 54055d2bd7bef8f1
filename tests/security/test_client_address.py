"""Behind the proxy, lockouts and login rate limits count per client, not
per proxy: axes takes the address the audit log takes."""

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory

PROXY, CLIENT = "172.18.0.5", "203.0.113.7"


def _request(forwarded: str):
    return RequestFactory().post("/admin/login/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def test_behind_the_proxy_the_lockout_counts_the_forwarded_client(settings):
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    assert get_client_ip_address(_request(CLIENT)) == CLIENT


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(settings):
    settings.AUDIT_TRUST_X_FORWARDED_FOR = False
    assert get_client_ip_address(_request(CLIENT)) == PROXY


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "unknown, 203.0.113.7"])
def test_a_forwarded_value_that_is_no_address_falls_back_to_the_connection(settings, forwarded):
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    assert get_client_ip_address(_request(forwarded)) == PROXY
