from contextlib import contextmanager

import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def audit_key(settings):
    settings.AUDIT_HMAC_KEY = "test-audit-key"


@contextmanager
def trigger_bypassed():
    """Play the attacker with database access: on PostgreSQL, switch off the
    append-only trigger for this session (superuser only), as a DBA could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("RESET session_replication_role")
