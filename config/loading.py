"""Building model instances from rows without `Model.__init__`, for lists.

Django's `Model.from_db` calls `__init__`, which walks every concrete field
of the model (placing `DEFERRED` markers for the ones `only()` left out),
sets each value through `setattr` and sends `pre_init`/`post_init`: about
17 µs per case, most of the CPU a 50-row case page spends after its SQL
(bench/request_cpu.py). For a row read from the database none of that walk
decides anything, so `from_db` here writes the loaded attributes straight
into the instance's `__dict__`: what `__init__` ends with for a loaded row,
and what leaves a deferred field absent, to be read on first access as
Django does. tests/foundation/test_loading.py holds the result equal to
Django's own.

Only for models with no `pre_init`/`post_init` receivers and no data
descriptor on a column attribute (a `FileField` would need its descriptor):
each model opts in with `from_db = loading.from_db`.
"""

from __future__ import annotations

from django.db.models.base import ModelState


@classmethod
def from_db(cls, db, field_names, values):
    instance = cls.__new__(cls)
    instance.__dict__.update(zip(field_names, values, strict=True))
    state = instance._state = ModelState()
    state.adding = False
    state.db = db
    return instance
