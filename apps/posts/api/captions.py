""" "Draft with AI" over the API: ``POST /api/v1/captions/suggestions/``. Thin: the caption
service (``apps.posts.captions``) decides, limits and records; this maps its outcomes to HTTP."""

from datetime import UTC, datetime

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.tenancy import TenantAPIView
from apps.assets.api.serializers import TenantPrimaryKeyRelatedField
from apps.core.api import fields
from apps.core.api.exceptions import CONTENT_TYPE, problem
from apps.core.api.problems import (
    THROTTLED_EXAMPLE,
    ProblemSerializer,
    problem_example,
    problems,
)
from apps.core.api.serializers import BodySerializer
from apps.posts.captions import CaptionError, CaptionLimitReached, caption_suggest
from apps.posts.captions.service import (
    MAX_AVOID,
    MAX_AVOID_CHARS,
    caption_monthly_limit,
    caption_provider,
    caption_usage_this_month,
)
from apps.posts.forms import MAX_ITEM_DETAILS
from apps.social.models import ConnectedAccount, Platform


class CaptionSuggestionsRequestSerializer(BodySerializer):
    item_details = fields.CharField(
        max_length=MAX_ITEM_DETAILS,
        help_text="What the post is about: the dish, its price, the offer.",
    )
    account_ids = TenantPrimaryKeyRelatedField(
        queryset=ConnectedAccount.objects.all(),
        many=True,
        required=False,
        default=list,
        help_text="Ids of the business's connected accounts the post is for; their networks "
        "set the rules (hashtags, length).",
    )
    platforms = serializers.ListField(
        child=serializers.ChoiceField(choices=Platform.choices),
        required=False,
        default=list,
        max_length=len(Platform.choices),
        help_text="Networks to write for, in addition to those of `account_ids`. Neither: "
        "written for Instagram's rules (they are the stricter).",
    )
    avoid = serializers.ListField(
        child=fields.CharField(max_length=MAX_AVOID_CHARS, trim_whitespace=False),
        required=False,
        default=list,
        max_length=MAX_AVOID,
        help_text="Ask again: suggestions already shown, not to be repeated or paraphrased. "
        "A request with `avoid` is never answered from the cache.",
    )


class CaptionSuggestionSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="The caption without its hashtags.")
    hashtags = serializers.ListField(child=serializers.CharField(), help_text="`#word` each.")
    full_text = serializers.CharField(help_text="`text`, a blank line, then the hashtags.")


class CaptionUsageSerializer(serializers.Serializer):
    used = serializers.IntegerField(help_text="Drafting requests this calendar month (UTC).")
    limit = serializers.IntegerField(help_text="What the plan includes a month.")


class CaptionSuggestionsSerializer(serializers.Serializer):
    suggestions = CaptionSuggestionSerializer(
        many=True,
        help_text="Up to three; fewer (even none) when the others were too close to recent "
        "captions or to `avoid`.",
    )
    provider = serializers.CharField(help_text="`openai` or `offline` (templates, no cost).")
    usage = CaptionUsageSerializer()


LIMIT_DETAIL = (
    "Your plan includes 100 AI caption drafts a month and they are used up. Write this one "
    "yourself, or upgrade the plan for more."
)


def _seconds_to_next_month() -> int:
    now = timezone.now().astimezone(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return max(1, int((datetime(year, month, 1, tzinfo=UTC) - now).total_seconds()))


class CaptionSuggestionsView(TenantAPIView):
    """AI caption suggestions for a post."""

    @extend_schema(
        summary="Draft captions with AI",
        description="Up to three caption suggestions from the business's brand profile and "
        "`item_details`, for the networks of `account_ids` and `platforms`, none repeating the "
        "business's 20 most recent captions (or `avoid`). Editors and write keys. Each request "
        "that reaches the caption provider counts against the plan's monthly drafts (an "
        "identical request within minutes is answered from the cache and not counted). "
        "Account ids that are not the business's are a 400 `invalid`; the monthly drafts used "
        "up: 429 `caption_limit_reached` (`Retry-After` until the 1st of next month, UTC); the "
        "AI provider failing: 502 `caption_provider_error`.",
        request=CaptionSuggestionsRequestSerializer,
        responses={
            200: CaptionSuggestionsSerializer,
            **problems(400),
            (429, CONTENT_TYPE): OpenApiResponse(
                response=ProblemSerializer,
                description="The plan's monthly AI drafts are used up (`caption_limit_reached`),"
                " or its hourly request limit (`throttled`); see `Retry-After`.",
                examples=[
                    problem_example(
                        "Monthly drafts used up",
                        429,
                        "caption_limit_reached",
                        LIMIT_DETAIL,
                        retry_after=604800,
                    ),
                    THROTTLED_EXAMPLE,
                ],
            ),
            (502, CONTENT_TYPE): OpenApiResponse(
                response=ProblemSerializer,
                description="The AI provider failed or answered nothing usable, after retries "
                "(`caption_provider_error`); nothing was counted. Try again later.",
                examples=[
                    problem_example(
                        "Provider failure",
                        502,
                        "caption_provider_error",
                        "The caption service is unavailable (HTTP 503). Try again in a minute.",
                    )
                ],
            ),
        },
        examples=[
            OpenApiExample(
                "A dish for a Page and an Instagram account",
                value={
                    "item_details": "Truffle risotto, 14 euros, this week only",
                    "account_ids": [12, 13],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Suggestions",
                value={
                    "suggestions": [
                        {
                            "text": "Good news! Come and try Truffle risotto, 14 euros, this "
                            "week only at Trattoria Luca. Book your table or stop by.",
                            "hashtags": ["#trattorialuca", "#truffle", "#risotto"],
                            "full_text": "Good news! Come and try Truffle risotto, 14 euros, "
                            "this week only at Trattoria Luca. Book your table or stop by.\n\n"
                            "#trattorialuca #truffle #risotto",
                        }
                    ],
                    "provider": "offline",
                    "usage": {"used": 12, "limit": 100},
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        form = CaptionSuggestionsRequestSerializer(
            data=request.data, context={"tenant": self.tenant}
        )
        form.is_valid(raise_exception=True)
        data = form.validated_data
        platforms = {a.platform for a in data["account_ids"]} | set(data["platforms"])
        provider = caption_provider()
        try:
            suggestions = caption_suggest(
                actor=self.membership,
                item_details=data["item_details"],
                platforms=sorted(platforms),
                provider=provider,
                avoid=data["avoid"],
            )
        except CaptionError as exc:
            return problem(502, exc.code, exc.message)
        except CaptionLimitReached as exc:
            wait = _seconds_to_next_month()
            return problem(
                429, exc.code, exc.message, headers={"Retry-After": str(wait)}, retry_after=wait
            )
        body = {
            "suggestions": [
                {"text": s.text, "hashtags": s.hashtags, "full_text": s.full_text}
                for s in suggestions
            ],
            "provider": provider.name,
            "usage": {
                "used": caption_usage_this_month(tenant=self.tenant),
                "limit": caption_monthly_limit(tenant=self.tenant),
            },
        }
        return Response(CaptionSuggestionsSerializer(body).data)
