from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class NewestFirstPagination(CursorPagination):
    """Opaque cursors (stable under inserts), newest first, ``page_size`` up to 100. A view
    whose model has no ``created_at`` names its own order in ``cursor_ordering``."""

    ordering = ("-created_at", "-id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> tuple[str, ...]:
        return tuple(getattr(view, "cursor_ordering", self.ordering))
