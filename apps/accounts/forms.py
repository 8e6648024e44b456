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


class BrandProfileForm(forms.Form):
    """What "Draft with AI" writes captions from. Hashtags are checked and normalised by
    ``tenant_brand_update``; the lengths here bound the request."""

    category = forms.CharField(
        max_length=120,
        required=False,
        label="Category",
        help_text="What the business is, e.g. “Neapolitan pizzeria” or “Vegan bakery”.",
    )
    description = forms.CharField(
        max_length=2000,
        required=False,
        label="Description",
        help_text="A few sentences: what you offer, what makes you different, where you are.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    tone_of_voice = forms.CharField(
        max_length=200,
        required=False,
        label="Tone of voice",
        help_text="How posts should sound, e.g. “warm and playful, a little Italian”.",
    )
    default_hashtags = forms.CharField(
        max_length=1000,
        required=False,
        label="Default hashtags",
        help_text="Added to suggested captions. Separate them with spaces or commas; the # is "
        "added where missing. Letters, digits and underscores only, at most 30.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
