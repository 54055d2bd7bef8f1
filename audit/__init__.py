"""The tamper-evident audit log.

It stands on its own app rather than inside `cases/` because every app writes
to it (agencies, cases, documents, logins) and it has machinery of its own
that no domain model shares: an append-only, hash-chained table guarded by a
PostgreSQL trigger, a serialised append path, HMAC-signed checkpoints of the
chain head and the `verify_audit` command that proves nobody edited, removed,
inserted, reordered or cut off a row. Keeping it apart keeps that machinery
in one reviewable place, and lets `cases` depend on it without a cycle.
"""
