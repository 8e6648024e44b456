from rest_framework.pagination import CursorPagination


class NewestFirstPagination(CursorPagination):
    """Opaque cursors (stable under inserts), newest first, ``page_size`` up to 100."""

    ordering = ("-created_at", "-id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
