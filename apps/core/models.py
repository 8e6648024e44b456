"""The one place tenant isolation lives (SPEC 4).

Every tenant-owned model inherits :class:`TenantOwnedModel`; every read that starts from a request
goes through ``Model.objects.for_tenant(tenant)`` (or :func:`get_for_tenant_or_404`), so an id that
belongs to another tenant is simply not found.
"""

from typing import Any, Self, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


class TenantQuerySet(models.QuerySet[M]):
    def for_tenant(self, tenant: Any) -> Self:
        return self.filter(tenant=tenant)


class TenantOwnedModel(models.Model):
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


def get_for_tenant_or_404(queryset: "TenantQuerySet[M]", *, tenant: Any, **lookup: Any) -> M:
    """The object matching ``lookup`` inside ``tenant``; anything else, including another
    tenant's object, is a 404 that tells nothing about whether the id exists elsewhere."""
    try:
        return queryset.for_tenant(tenant).get(**lookup)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


class IdempotencyKey(TenantOwnedModel):
    """The first answer to a POST sent with an ``Idempotency-Key`` header, replayed when the same
    key and body come again (a client retrying after a lost answer). Kept for a day."""

    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # null: in progress
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
