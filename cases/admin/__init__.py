"""The investigators' admin. Conventions: `cases.admin.base`."""

from . import cases, deconfliction, documents, mla, tasks  # noqa: F401  (registers the admin pages)
