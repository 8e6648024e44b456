from django.urls import include, path

from apps.social import views

connection_patterns = (
    [
        path("", views.account_list, name="list"),
        path("new/", views.connection_choose, name="choose"),
        # Networks that own their login (Threads, Instagram Login): one start, one callback.
        path("oauth/start/", views.connection_oauth_start, name="oauth_start"),
        path("oauth/callback/", views.connection_oauth_callback, name="oauth_callback"),
        path(
            "<int:connected_account_id>/disconnect/",
            views.account_disconnect,
            name="disconnect",
        ),
        path("<int:connected_account_id>/check/", views.account_check, name="check"),
    ],
    "connections",
)

facebook_patterns = (
    [
        path("deauthorize/", views.facebook_deauthorize, name="deauthorize"),
        path("data-deletion/", views.facebook_data_deletion, name="data_deletion"),
        path(
            "data-deletion/<str:confirmation_code>/",
            views.facebook_data_deletion_status,
            name="data_deletion_status",
        ),
    ],
    "facebook",
)

urlpatterns = [
    path("connections/", include(connection_patterns)),
    path("facebook/", include(facebook_patterns)),
]
