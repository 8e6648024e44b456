from django.apps import AppConfig


class AssetsConfig(AppConfig):
    """The brand asset library: folders, images and their public media URLs."""

    name = "apps.assets"
    label = "assets"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from apps.assets import tenant_data
        from apps.assets.models import BrandAsset
        from apps.assets.services import asset_files_delete_on_commit
        from apps.core import hooks

        post_delete.connect(
            lambda sender, instance, **kwargs: asset_files_delete_on_commit(asset=instance),
            sender=BrandAsset,
            weak=False,
            dispatch_uid="assets.delete_files",
        )
        hooks.register(self.label, tenant_data=tenant_data.TENANT_DATA)
