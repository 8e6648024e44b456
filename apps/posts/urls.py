from django.urls import include, path

from apps.posts import views

post_patterns = (
    [
        path("", views.post_list, name="list"),
        path("new/", views.post_create, name="create"),
        path("preview/", views.post_preview, name="preview"),
        path("<int:post_id>/", views.post_detail, name="detail"),
        path("<int:post_id>/edit/", views.post_edit, name="edit"),
        path("<int:post_id>/submit/", views.post_submit, name="submit"),
        path("<int:post_id>/cancel/", views.post_cancel, name="cancel"),
        path("<int:post_id>/reschedule/", views.post_reschedule, name="reschedule"),
        path(
            "publications/<int:publication_id>/retry/",
            views.publication_retry,
            name="retry_publication",
        ),
    ],
    "posts",
)

urlpatterns = [path("posts/", include(post_patterns))]
