"""The bottom layer: what every app shares and no app owns.

A plain Python package, not a Django app: it has no models, templates,
migrations or `ready()`, so `INSTALLED_APPS` does not list it. It imports
Django but no Casebridge app, which is what lets every app import it:

* `gate.errors`: the domain errors services and the permission gate raise,
  each with the HTTP status the API and the admin translate it to;
* `gate.roles`: the member roles and their ranking;
* `gate.port`: the permission gate (`cases.access`) as the layers below
  `cases` reach it, connected by `cases` when it is ready.

The import order of the apps above it is checked by
`tests/architecture/test_layers.py`.
"""
