"""The conventions every `/api/v1/` endpoint follows (see `base.py`).

One place for what is common to all endpoints: the gated base viewset
(`base`), RFC 9457 problem details (`problems`), keyset sync pagination
(`pagination`), `Idempotency-Key` handling (`idempotency`), per-client
throttling (`throttling`), the OpenAPI generator (`schema`) and the v1
router (`urls`).
"""
