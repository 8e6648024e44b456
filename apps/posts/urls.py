from django.urls import include, path

from apps.posts import calendar, views

post_patterns = (
    [
        path("", views.post_list, name="list"),
        path("new/", views.post_create, name="create"),
        path("preview/", views.post_preview, name="preview"),
        path("captions/suggest/", views.caption_suggest_view, name="caption_suggest"),
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

calendar_patterns = (
    [
        path("", calendar.calendar_view, name="index"),
        path("posts/<int:post_id>/reschedule/", calendar.calendar_reschedule, name="reschedule"),
    ],
    "calendar",
)

urlpatterns = [
    path("posts/", include(post_patterns)),
    path("calendar/", include(calendar_patterns)),
]
