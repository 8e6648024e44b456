"""Forms of the posts dashboard. They parse and convert (ids, order, the tenant's local time to
UTC); the rules of the networks and of tenancy are the services' and the networks' to check."""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from apps.accounts.models import Tenant
from apps.core.localtime import localtime_or_utc
from apps.networks.base import Network, Problem
from apps.networks.registry import network_for, networks
from apps.posts.captions.service import MAX_AVOID, MAX_AVOID_CHARS
from apps.posts.models import Post
from apps.posts.selectors import DATE_FILTER_MESSAGE, date_filter_ok
from apps.posts.services import PostInput, schedule_problems
from apps.social.models import ConnectedAccount

# Form field of each per-network caption override, by platform ("caption_instagram").
OVERRIDE_FIELDS = {network.id: f"caption_{network.slug}" for network in networks()}
# Where a Problem.field is shown on the compose form.
PROBLEM_FIELDS = {
    "targets": "targets",
    "assets": "assets",
    "caption": "caption",
    "link": "link",
    "scheduled_for": "scheduled_date",
    "format": "format",
    "first_comment": "first_comment",
    "cover": "cover",
    "cover_offset_ms": "cover_offset",
    "audio_name": "audio_name",
    "collaborators": "collaborators",
    "location_id": "location_id",
}
MAX_COVER_OFFSET_SECONDS = 4 * 3600
MAX_CAPTION_INPUT = 100_000  # a bound on the request, far above any network's limit
MAX_POSITION = 99
MAX_ITEM_DETAILS = 1000  # what the caption service reads of the item details


def local_to_utc(day: date, at: time, tz_name: str) -> datetime:
    """A wall-clock date and time in the tenant's timezone, as UTC. A time that does not exist
    there (skipped when clocks go forward) is refused rather than silently moved."""
    zone = ZoneInfo(tz_name)
    local = datetime.combine(day, at.replace(second=0, microsecond=0), tzinfo=zone)
    try:
        utc = local.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31 23:59 west of UTC: year 10000 in UTC
        raise ValidationError("That date is out of range.", code="out_of_range") from None
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValidationError(
            f"{at:%H:%M} does not exist on {day:%d %b %Y} in {tz_name} (the clocks go forward); "
            "pick another time.",
            code="time_skipped",
        )
    return utc


def utc_to_local(value: datetime, tz_name: str) -> tuple[date, str]:
    local = localtime_or_utc(value, ZoneInfo(tz_name))
    return local.date(), local.strftime("%H:%M")


class IdListField(forms.MultipleChoiceField):
    """Ids posted by checkboxes. Whether each id is the tenant's is the service's question, so
    that a foreign or unknown id gets the service's clear refusal, next to the field."""

    default_error_messages = {"invalid_choice": "Choose from the list."}

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        values = super().to_python(value)
        if not all(v.isdigit() for v in values):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid")
        return [int(v) for v in values]

    def valid_value(self, value: Any) -> bool:
        return True


class ScheduleFields(forms.Form):
    """A date and a time in the tenant's timezone; both or neither."""

    scheduled_date = forms.DateField(
        required=False, label="Date", widget=forms.DateInput(attrs={"type": "date"})
    )
    scheduled_time = forms.TimeField(
        required=False, label="Time", widget=forms.TimeInput(attrs={"type": "time"})
    )
    schedule_required = False

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        if self.schedule_required:
            self.fields["scheduled_date"].required = True
            self.fields["scheduled_time"].required = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, at = cleaned.get("scheduled_date"), cleaned.get("scheduled_time")
        cleaned["scheduled_for"] = None
        if "scheduled_date" in self.errors or "scheduled_time" in self.errors:
            return cleaned
        if day and at:
            try:
                cleaned["scheduled_for"] = local_to_utc(day, at, self.tenant.timezone)
            except ValidationError as exc:
                self.add_error(
                    "scheduled_date" if exc.code == "out_of_range" else "scheduled_time", exc
                )
                return cleaned
            # The service's own check, so the refusal sits next to the date.
            for problem in schedule_problems(cleaned["scheduled_for"]):
                self.add_error("scheduled_date", problem.message)
        elif day:
            self.add_error("scheduled_time", "Pick a time as well, or clear the date.")
        elif at:
            self.add_error("scheduled_date", "Pick a date as well, or clear the time.")
        return cleaned


class PostForm(ScheduleFields):
    """Compose and edit. ``assets`` are ordered by the ``position_<id>`` numbers posted with
    them (then by their order on the page), so the order works without JavaScript."""

    field_order = [
        "targets",
        "format",
        "assets",
        "cover",
        "cover_offset",
        "share_to_feed",
        "audio_name",
        "caption",
        "caption_ai_generated",
        *OVERRIDE_FIELDS.values(),
        "link",
        "first_comment",
        "collaborators",
        "location_id",
        "scheduled_date",
        "scheduled_time",
    ]

    targets = IdListField(required=False, label="Post to")
    format = forms.ChoiceField(
        required=False,
        choices=Post.Format.choices,
        label="Format",
        widget=forms.RadioSelect,
    )
    assets = IdListField(required=False, label="Images and videos")
    # A select of the library's images on the page; whether the id is the tenant's image is
    # the service's question (a foreign id gets its refusal next to the field).
    cover = forms.IntegerField(
        required=False,
        min_value=1,
        label="Cover image",
        help_text="Shown before the Reel plays. Or pick a frame below.",
    )
    cover_offset = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=MAX_COVER_OFFSET_SECONDS,
        decimal_places=3,
        label="Or the frame at (seconds)",
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    share_to_feed = forms.BooleanField(
        required=False, initial=True, label="Also show the Reel in the Instagram feed grid"
    )
    audio_name = forms.CharField(
        required=False,
        max_length=100,
        label="Audio name",
        help_text="Instagram shows it under the Reel (the video's own sound).",
    )
    caption_ai_generated = forms.BooleanField(
        required=False,
        label="Drafted with AI",
        help_text="Kept with the post and shown with it. Meta's publishing API has no "
        "AI-generated label for Pages and Instagram yet, so nothing is sent with it.",
    )
    first_comment = forms.CharField(
        required=False,
        max_length=MAX_CAPTION_INPUT,
        label="First comment",
        help_text="Posted under the post right after it goes out, once (Facebook and "
        "Instagram): hashtags or a link there keep the caption clean.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    collaborators = forms.CharField(
        required=False,
        max_length=200,
        label="Collaborators",
        help_text="Instagram usernames invited to co-author it, separated by commas (at "
        "most 3; Instagram only, other networks publish without them).",
    )
    location_id = forms.CharField(
        required=False,
        max_length=32,
        label="Location",
        help_text="The Facebook Page id of the place (Instagram only).",
    )
    caption = forms.CharField(
        required=False,
        max_length=MAX_CAPTION_INPUT,
        strip=False,
        label="Caption",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    link = forms.CharField(
        required=False,
        max_length=2000,
        label="Link",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )

    @classmethod
    def initial_for(cls, post: Post, tenant: Tenant) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "targets": [a.pk for a in post.targets.all()],
            "assets": [pa.asset_id for pa in post.post_assets.all()],
            "caption": post.caption,
            "link": post.link,
            "scheduled_for": post.scheduled_for,  # not a field: what the preview starts from
            "format": post.format,
            "cover": post.cover_id or "",
            "cover_offset": (
                "" if post.cover_offset_ms is None else f"{post.cover_offset_ms / 1000:g}"
            ),
            "share_to_feed": post.share_to_feed,
            "audio_name": post.audio_name,
            "caption_ai_generated": post.caption_ai_generated,
            "first_comment": post.first_comment,
            "collaborators": ", ".join(post.collaborators),
            "location_id": post.location_id,
        }
        for platform, name in OVERRIDE_FIELDS.items():
            initial[name] = post.caption_overrides.get(platform, "")
        if post.scheduled_for:
            initial["scheduled_date"], initial["scheduled_time"] = utc_to_local(
                post.scheduled_for, tenant.timezone
            )
        return initial

    @classmethod
    def data_for(cls, post: Post, tenant: Tenant) -> QueryDict:
        """The post as if its form had just been posted (to show its problems on the form)."""
        data = QueryDict(mutable=True)
        for name, value in cls.initial_for(post, tenant).items():
            if name == "scheduled_for":
                continue
            if isinstance(value, list):
                data.setlist(name, [str(v) for v in value])
            elif isinstance(value, bool):
                if value:  # a ticked checkbox; an unticked one is absent
                    data[name] = "on"
            else:
                data[name] = str(value)
        for position, pa in enumerate(post.post_assets.all(), start=1):
            data[f"position_{pa.asset_id}"] = str(position)
        return data

    @property
    def override_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in OVERRIDE_FIELDS.values()]

    @property
    def overrides_open(self) -> bool:
        return any(field.value() or field.errors for field in self.override_fields)

    # --- Reading what was chosen, also when the form is not valid (to show it again) ---------

    def _raw_ids(self, name: str) -> list[int]:
        if self.is_bound:
            values: Iterable[Any] = self.data.getlist(name) if hasattr(self.data, "getlist") else []
        else:
            values = self.initial.get(name) or []
        return [int(v) for v in values if str(v).isdigit()]

    def chosen_target_ids(self) -> set[int]:
        return set(self._raw_ids("targets"))

    def _positions(self) -> dict[int, int]:
        """``position_<id>`` numbers as posted (blank or unreadable ones are left out)."""
        if not self.is_bound:
            return {i: n for n, i in enumerate(self._raw_ids("assets"), start=1)}
        positions = {}
        for asset_id in self._raw_ids("assets"):
            raw = str(self.data.get(f"position_{asset_id}", "")).strip()
            if raw.isdigit() and 0 < int(raw) <= MAX_POSITION:
                positions[asset_id] = int(raw)
        return positions

    def ordered_asset_ids(self) -> list[int]:
        chosen = list(dict.fromkeys(self._raw_ids("assets")))
        positions = self._positions()
        return sorted(chosen, key=lambda i: (positions.get(i, MAX_POSITION + 1), chosen.index(i)))

    def asset_positions(self) -> dict[int, int]:
        """The chosen images numbered 1, 2, 3 … in their order (what the page shows)."""
        return {i: n for n, i in enumerate(self.ordered_asset_ids(), start=1)}

    # --- Into the service -------------------------------------------------------------------

    def post_input(self) -> PostInput:
        """What the service is given; usable on a form that is not valid (for the preview)."""
        values: Mapping[str, Any]
        if self.is_bound:
            self.is_valid()
            values = getattr(self, "cleaned_data", {})
        else:
            values = self.initial
        overrides = {
            platform: (values.get(name) or "").strip()
            for platform, name in OVERRIDE_FIELDS.items()
            if (values.get(name) or "").strip()
        }
        offset = str(values.get("cover_offset") or "")
        cover = str(values.get("cover") or "")
        return PostInput(
            caption=values.get("caption") or "",
            caption_overrides=overrides,
            link=(values.get("link") or "").strip(),
            target_ids=sorted(self.chosen_target_ids()),
            asset_ids=self.ordered_asset_ids(),
            scheduled_for=values.get("scheduled_for"),
            format=values.get("format") or Post.Format.FEED_POST,
            first_comment=values.get("first_comment") or "",
            cover_id=int(cover) if cover.isdigit() else None,
            cover_offset_ms=round(float(offset) * 1000) if offset else None,
            share_to_feed=bool(values.get("share_to_feed")) if self.is_bound else True,
            audio_name=values.get("audio_name") or "",
            collaborators=[
                name for name in re.split(r"[,\s]+", values.get("collaborators") or "") if name
            ],
            location_id=(values.get("location_id") or "").strip(),
            caption_ai_generated=bool(values.get("caption_ai_generated")),
        )

    def add_problems(self, problems: Sequence[Problem]) -> None:
        """Show each problem next to its field. A caption problem of a network whose caption is
        overridden goes next to that network's caption."""
        labels = {network.label: network.id for network in networks()}
        for problem in problems:
            name = PROBLEM_FIELDS.get(problem.field)
            if problem.field == "caption":
                network = problem.message.split(":", 1)[0]
                override = OVERRIDE_FIELDS.get(labels.get(network, ""), "")
                if override and (self.data.get(override) or "").strip():
                    name = override
            if problem.message not in self.errors.get(name or "__all__", []):
                self.add_error(name, problem.message)


def _override_field(network: Network) -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=MAX_CAPTION_INPUT,
        label=f"{network.label} caption",
        help_text=f"Replaces the caption on {network.label}. Leave empty to use the caption.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# One caption field per network, as if declared on the class (before "link", by field_order).
PostForm.base_fields.update(
    {name: _override_field(network_for(platform)) for platform, name in OVERRIDE_FIELDS.items()}
)


class CaptionDraftForm(forms.Form):
    """ "Draft with AI" on the compose page: what the post is about, and the suggestions
    already shown (``avoid``, hidden fields) that "Ask again" should not repeat."""

    item_details = forms.CharField(
        required=False,
        max_length=MAX_ITEM_DETAILS,
        label="What is this post about?",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def avoid(self) -> list[str]:
        values = self.data.getlist("avoid") if hasattr(self.data, "getlist") else []
        return [str(v)[:MAX_AVOID_CHARS] for v in values if str(v).strip()][-MAX_AVOID:]


class RescheduleForm(ScheduleFields):
    schedule_required = True


class PostFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Post.Status.choices], label="Status"
    )
    account = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Account")
    date_field = forms.ChoiceField(
        required=False,
        choices=[("scheduled", "Scheduled for"), ("created", "Created")],
        label="Date",
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, accounts: Sequence[ConnectedAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [  # type: ignore[attr-defined]
            ("", "Any account"),
            *((a.pk, str(a)) for a in accounts),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("date_from", "date_to"):
            day = cleaned.get(name)
            if day is not None and not date_filter_ok(day):
                self.add_error(name, DATE_FILTER_MESSAGE)
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end of the range comes before its start.")
        return cleaned
