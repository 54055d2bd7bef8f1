"""Django's PostgreSQL backend, reading `timestamptz` values with the C parser.

Django replaces psycopg's timestamp loader with a subclass of the pure-Python
one (to label values with the connection's time zone), and psycopg's C
loader cannot be subclassed. Parsing the three times of each case row was
the largest single cost left in a 50-case page (~10 % of its CPU,
bench/request_cpu.py). The connection speaks UTC (`TIME_ZONE` unset, as
here), so PostgreSQL writes every value as `YYYY-MM-DD HH:MM:SS[.ffffff]+00`,
which `datetime.fromisoformat` reads, in C, as Django's loader would; any
other text (another offset, `infinity`, years before 1 or after 9999) goes
to Django's loader unchanged. tests/foundation/test_timestamp_loader.py
compares the two.
"""

from __future__ import annotations

import datetime as dt

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg import adapt


class UTCTimestampLoader(BaseTzLoader):
    timezone = dt.UTC  # what Django's create_cursor compares with its own

    def load(self, data):
        text = bytes(data)
        if text.endswith(b"+00") and len(text) <= 29 and text[4:5] == b"-":
            return dt.datetime.fromisoformat(text.decode())
        return super().load(data)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if self.timezone == dt.UTC:
            # Django's adapters map is shared and cached: extend a copy.
            context = adapt.AdaptersMap(params["context"])
            context.register_loader("timestamptz", UTCTimestampLoader)
            params["context"] = context
        return params
