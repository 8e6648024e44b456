from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework import mixins, serializers, viewsets

from apps.core.api.views import TenantAPIMixin
from apps.social.models import ConnectedAccount, Platform


class ConnectedAccountSerializer(serializers.ModelSerializer):
    parent_id = serializers.IntegerField(allow_null=True, read_only=True)
    picture_url = serializers.CharField(read_only=True)  # may be empty: not always a URI

    class Meta:
        model = ConnectedAccount
        fields = [
            "id",
            "platform",
            "platform_id",
            "name",
            "username",
            "picture_url",
            "parent_id",
            "status",
            "status_reason",
            "connected_at",
        ]
        read_only_fields = fields


class ConnectedAccountFilter(filters.FilterSet):
    platform = filters.ChoiceFilter(choices=Platform.choices)
    status = filters.ChoiceFilter(choices=ConnectedAccount.Status.choices)

    class Meta:
        model = ConnectedAccount
        fields = ["platform", "status"]


class ConnectedAccountViewSet(
    TenantAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The business's Facebook Pages and Instagram accounts (connected in the dashboard)."""

    serializer_class = ConnectedAccountSerializer
    filterset_class = ConnectedAccountFilter
    queryset = ConnectedAccount.objects.all()
    cursor_ordering = ("-connected_at", "-id")

    def get_queryset(self) -> QuerySet[ConnectedAccount]:
        return ConnectedAccount.objects.for_tenant(self.tenant).order_by("-connected_at", "-id")
