from django.urls import include, path

from apps.webhooks import views

webhook_patterns = (
    [
        path("", views.endpoint_list, name="list"),
        path("<int:webhook_endpoint_id>/", views.endpoint_detail, name="detail"),
        path("<int:webhook_endpoint_id>/test/", views.endpoint_test, name="test"),
        path("<int:webhook_endpoint_id>/rotate-secret/", views.endpoint_rotate, name="rotate"),
        path("<int:webhook_endpoint_id>/active/", views.endpoint_toggle, name="toggle"),
        path("<int:webhook_endpoint_id>/delete/", views.endpoint_delete, name="delete"),
        path(
            "deliveries/<int:webhook_delivery_id>/redeliver/",
            views.delivery_redeliver,
            name="redeliver",
        ),
    ],
    "webhooks",
)

urlpatterns = [path("webhooks/", include(webhook_patterns))]
