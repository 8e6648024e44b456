from django.urls import include, path

from apps.assets import upload_views, views

asset_patterns = (
    [
        path("", views.library, name="library"),
        path("upload/", views.upload, name="upload"),
        path("uploads/", upload_views.upload_create, name="upload_create"),
        path("uploads/<int:asset_upload_id>/", upload_views.upload_session, name="upload_session"),
        path(
            "uploads/<int:asset_upload_id>/complete/",
            upload_views.upload_complete,
            name="upload_complete",
        ),
        path("<int:brand_asset_id>/", views.detail, name="detail"),
        path("<int:brand_asset_id>/file/", views.file, name="file"),
        path("<int:brand_asset_id>/thumbnail/", views.thumbnail, name="thumbnail"),
        path("<int:brand_asset_id>/public-link/", views.public_link, name="public_link"),
        path("<int:brand_asset_id>/delete/", views.delete, name="delete"),
        path("folders/new/", views.folder_create, name="folder_create"),
        path("folders/<int:brand_folder_id>/rename/", views.folder_rename, name="folder_rename"),
        path("folders/<int:brand_folder_id>/move/", views.folder_move, name="folder_move"),
        path("folders/<int:brand_folder_id>/delete/", views.folder_delete, name="folder_delete"),
    ],
    "assets",
)

media_patterns = (
    [path("<str:token>/<str:filename>", views.public_media, name="public")],
    "media",
)

urlpatterns = [
    path("assets/", include(asset_patterns)),
    path("m/", include(media_patterns)),
]
