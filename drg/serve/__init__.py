"""`drg serve`: the pre-grouping service -- a JSON API and a coder's page over one loaded scheme.

Layers, one way: :mod:`.records` (what a request may carry) -> :mod:`.service` (group, explain, simulate, price,
search codes; no HTTP) -> :mod:`.app` (Starlette routes, token, limits, errors) -> :mod:`.command` (the CLI)."""
