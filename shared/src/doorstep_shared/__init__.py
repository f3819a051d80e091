"""doorstep_shared: the library every Doorstep app builds on. It names no app.

Layers (a part imports only those before it; tests/shared/test_library.py holds it to that):

- leaves: ``clock`` (the one door to the wall clock), ``types``, ``pii``, ``textsearch``,
  ``rules/``, ``directory/`` (the directory as data: the snapshot every app reads and the import file format)
- ``http/``: the error hierarchy and its problem+json handlers, problem docs for OpenAPI,
  ETags and ``check_if_match``, cursor pagination, request ids, logs and metrics
- ``auth/``: tokens, the permission table, the route dependencies (``require``, ``public``)
- ``db/``: engines, sessions (``DbSession``), the migrations runner, audit log, outbox, idempotency
- ``periods`` (what a ``from``/``to`` query of days means), ``config`` (settings and their
  mixins), ``background`` (an app's background tasks),
  ``app`` (``create_service_app``: puts http, auth and db together), ``webhooks/``,
  ``directory_copy`` (a service's copy of the gateway's directory, polled, kept in its database)
"""
