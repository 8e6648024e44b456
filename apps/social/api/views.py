from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from apps.accounts.api.tenancy import TenantAPIMixin
from apps.core.api.problems import problems
from apps.core.api.serializers import QuerySerializer
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


class ConnectedAccountQuerySerializer(QuerySerializer):
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    status = serializers.ChoiceField(choices=ConnectedAccount.Status.choices, required=False)


@extend_schema_view(
    list=extend_schema(
        parameters=[ConnectedAccountQuerySerializer],
        responses={200: ConnectedAccountSerializer(many=True), **problems(400)},
    ),
)
class ConnectedAccountViewSet(
    TenantAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The business's Facebook Pages and Instagram accounts (connected in the dashboard)."""

    serializer_class = ConnectedAccountSerializer
    queryset = ConnectedAccount.objects.all()
    cursor_ordering = ("-connected_at", "-id")

    def get_queryset(self) -> QuerySet[ConnectedAccount]:
        if getattr(self, "swagger_fake_view", False):
            return ConnectedAccount.objects.none()
        accounts = ConnectedAccount.objects.for_tenant(self.tenant).order_by("-connected_at", "-id")
        if self.action != "list":
            return accounts
        query = ConnectedAccountQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        for name in ("platform", "status"):
            if name in query.validated_data:
                accounts = accounts.filter(**{name: query.validated_data[name]})
        return accounts
