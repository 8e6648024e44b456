from django.apps import AppConfig


class PostsConfig(AppConfig):
    """Posts, approval, publishing and engagement."""

    name = "apps.posts"
    label = "posts"
