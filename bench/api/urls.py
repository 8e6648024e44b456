"""The application's routes plus the bench-only views: the bare Django view and the prototypes
of the fixes (``bench/api/fast.py``)."""

from django.urls import include, path

from bench.api.fast import post_list_a, post_list_b, post_list_c
from bench.api.views import bare_posts

urlpatterns = [
    path("bench/posts/", bare_posts, name="bench-bare-posts"),
    path("bench/drf-a/posts/", post_list_a, name="bench-drf-a-posts"),
    path("bench/drf-b/posts/", post_list_b, name="bench-drf-b-posts"),
    path("bench/drf-c/posts/", post_list_c, name="bench-drf-c-posts"),
    path("", include("config.urls")),
]
