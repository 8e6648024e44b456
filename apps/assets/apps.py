from django.apps import AppConfig


class AssetsConfig(AppConfig):
    """The brand asset library: folders, images and their public media URLs."""

    name = "apps.assets"
    label = "assets"
