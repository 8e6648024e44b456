from django import forms

from apps.webhooks import targets
from apps.webhooks.models import Event


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        max_length=2000,
        label="URL",
        help_text="An https:// address of yours that accepts POST requests.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/social"}),
    )
    description = forms.CharField(
        max_length=200, required=False, help_text="Optional: what receives these events."
    )
    events = forms.MultipleChoiceField(
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(Event.values),
        error_messages={"required": "Choose at least one event."},
    )

    def clean_url(self) -> str:
        # The same decision as the API, the service and the sender (apps.webhooks.targets).
        url = self.cleaned_data["url"].strip()
        problem = targets.url_problem(url, allow_local=targets.local_targets_allowed())
        if problem:
            raise forms.ValidationError(problem, code="url_invalid")
        return url
