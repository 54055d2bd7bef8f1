"""Delivery infrastructure: the transactional outbox, its channels and webhooks.

A separate app rather than part of `cases/` because every app emits through
it (cases, MLA requests, documents, deconfliction) and none of them should
know how a message reaches a person or a partner system: `cases` depends on
`notifications.outbox.emit`, never the other way round, except for the
permission gate (`cases.access`), which decides every recipient at delivery
time.

Emitting an event (from a service, inside its transaction)::

    from notifications.outbox import emit

    emit("case.shared", obj=case, actor=actor, agency=agency.public_id)

Event names are listed in `notifications.choices.EventType`; an app that adds
an object type registers it with `notifications.registry.register_object`
and its audience with `notifications.registry.register_audience` (see
`notifications.audiences` for the case-domain ones). An event whose audience
is not registered is never guessed: it fails, is retried a bounded number of
times and ends in the dead-letter status with the error.
"""
