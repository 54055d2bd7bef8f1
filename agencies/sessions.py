"""The session engine: Django's database sessions, read by a query compiled once.

A logged-in request reads its session row first. Django's `SessionStore`
builds and compiles `Session.objects.get(session_key=…, expire_date__gt=now)`
every time, about a tenth of a web request's CPU (bench/request_cpu.py);
here the row is read by session key through `agencies.lookups.OneRowLookup`
and its expiry compared in Python, with the same outcome: an expired or
unknown key is no session. Writing, rotating and flushing are Django's own.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from .lookups import OneRowLookup

_by_key = OneRowLookup(
    lambda key: Session.objects.filter(session_key=key),
    Session._meta.get_field("session_key"),
    "cb-session-key-placeholder",
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        session = _by_key.get(self.session_key)
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session
