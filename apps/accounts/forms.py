from django import forms

from apps.accounts.models import TIMEZONE_CHOICES, Role, Tenant


class TenantCreateForm(forms.Form):
    name = forms.CharField(max_length=120, label="Business name")
    slug = forms.SlugField(
        max_length=60,
        required=False,
        label="Short name",
        help_text="Letters, digits and hyphens; leave empty to derive it from the name.",
    )
    timezone = forms.ChoiceField(
        choices=TIMEZONE_CHOICES,
        initial="UTC",
        help_text="Posts are scheduled in this timezone.",
    )


class TenantSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES)

    class Meta:
        model = Tenant
        fields = ["name", "timezone"]


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Which system uses it, e.g. “Website menu sync”."
    )
    scope = forms.ChoiceField(
        choices=[("read", "Read only"), ("write", "Read and write")],
        initial="write",
        widget=forms.RadioSelect,
    )
