from django.urls import include, path

from apps.accounts import views

tenant_patterns = (
    [
        path("new/", views.tenant_create, name="create"),
        path("<int:tenant_id>/switch/", views.tenant_switch, name="switch"),
        path("settings/", views.tenant_settings, name="settings"),
        path("exports/", views.tenant_export_request, name="export_request"),
        path(
            "exports/<int:tenant_export_id>/download/",
            views.tenant_export_download,
            name="export_download",
        ),
        path("delete/", views.tenant_delete, name="delete"),
    ],
    "tenants",
)

team_patterns = (
    [
        path("", views.team, name="list"),
        path("leave/", views.team_leave, name="leave"),
        path("members/<int:membership_id>/role/", views.member_change_role, name="change_role"),
        path("members/<int:membership_id>/remove/", views.member_remove, name="remove"),
        path(
            "invitations/<int:invitation_id>/revoke/",
            views.invitation_revoke,
            name="revoke_invitation",
        ),
    ],
    "team",
)

brand_patterns = ([path("", views.brand_profile, name="profile")], "brand")

invitation_patterns = (
    [path("<str:token>/", views.invitation_accept, name="accept")],
    "invitations",
)

api_key_patterns = (
    [
        path("", views.api_keys, name="list"),
        path("<int:api_key_id>/revoke/", views.api_key_revoke, name="revoke"),
    ],
    "api_keys",
)

urlpatterns = [
    path("api-keys/", include(api_key_patterns)),
    path("business/", include(tenant_patterns)),
    path("brand/", include(brand_patterns)),
    path("team/", include(team_patterns)),
    path("invitations/", include(invitation_patterns)),
]
