"""Prometheus metrics (SPEC 11): what processes record (``instruments``), what the database says
at scrape time (``database``), and how both are served (``exposition``). See docs/operations.md.

Only the recording helpers are imported here: they are cheap and touch no model, so the Graph
client and the services can import them from anywhere.
"""

from .instruments import (
    graph_call_observe,
    publication_outcome_record,
    token_check_record,
    token_refresh_record,
)

__all__ = [
    "graph_call_observe",
    "publication_outcome_record",
    "token_check_record",
    "token_refresh_record",
]
