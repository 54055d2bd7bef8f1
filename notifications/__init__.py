"""Delivery infrastructure: the transactional outbox, its channels and webhooks.

A separate app rather than part of `cases/` because every app emits through
it (cases, MLA requests, documents, deconfliction) and none of them should
know how a message reaches a person or a partner system: `cases` depends on
`notifications.outbox.emit`, never the other way round. Notifications
imports no `cases` module: the permission gate, which decides every
recipient at delivery time, is reached through `gate.port`, and the case
domain registers what notifications must know of it (object types,
audiences, status labels, deadlines) from `cases.apps`.

Emitting an event (from a service, inside its transaction)::

    from notifications.outbox import emit

    emit("case.shared", obj=case, actor=actor, agency=agency.public_id)

Event names are listed in `notifications.choices.EventType`; an app that adds
an object type registers it with `notifications.registry.register_object`
and its audience with `notifications.registry.register_audience` (see
`cases.audiences` for the case-domain ones), and its deadlines with
`notifications.reminders.register_source` (`cases.reminders`). An event whose audience
is not registered is never guessed: it fails, is retried a bounded number of
times and ends in the dead-letter status with the error.
"""
