from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from apps.accounts.models import TIMEZONE_CHOICES, ApiKey, Invitation, Membership, Tenant, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class TenantAdminForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES)

    class Meta:
        model = Tenant
        fields = [
            "name",
            "slug",
            "plan",
            "timezone",
            "requires_approval",
            "description",
            "category",
            "tone_of_voice",
            "default_hashtags",
        ]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    form = TenantAdminForm
    list_display = ["name", "slug", "plan", "timezone", "requires_approval", "created_at"]
    list_filter = ["plan", "requires_approval"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("name", "slug", "plan", "timezone", "requires_approval")}),
        (
            "Brand profile",
            {"fields": ("description", "category", "tone_of_voice", "default_hashtags")},
        ),
    )

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Deleting a business first cancels its publications and revokes its Facebook tokens
        # (apps.accounts.tenant_data.tenant_delete); a plain cascade here would skip both. Owners
        # delete their business from its settings page.
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__email", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]
    list_select_related = ["user", "tenant"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "tenant",
        "role",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_filter = ["role", "tenant"]
    search_fields = ["email", "tenant__name"]
    list_select_related = ["tenant"]
    # The token exists only as a hash and only in the e-mail; staff cannot create links here.
    readonly_fields = [
        "tenant",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff see who has keys and whether they are used; secrets exist only as hashes."""

    list_display = [
        "name",
        "tenant",
        "prefix",
        "scopes",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["tenant"]
    search_fields = ["name", "prefix", "tenant__name"]
    list_select_related = ["tenant", "created_by"]
    exclude = ["secret_hash"]
    readonly_fields = [
        "tenant",
        "name",
        "prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_reason",
        "narrowed_at",
        "narrowed_reason",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
