"""Graph-format errors, worded, coded and given the HTTP status that Meta gives them.

Every failure of the sandbox's Graph endpoints is a `GraphError`; the server turns it into
`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id", ...}}`. The constructors
below carry Meta's own texts (from its docs and from answers seen in the wild) so that the
product's client can be tested against what it will meet in production.
"""

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

OAUTH = "OAuthException"
GRAPH_METHOD = "GraphMethodException"

# Meta answers 500 for "unknown"/"service" errors, 403 for throttling and missing permissions,
# 400 for nearly everything else.
_STATUS_BY_CODE = {1: 500, 2: 500, 4: 403, 17: 403, 32: 403, 10: 403}

RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: (
        "(#80001) There have been too many calls to this Page account. Wait a bit and try "
        "again. For more info, please refer to "
        "https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
    ),
    80002: (
        "(#80002) There have been too many calls to this Instagram account. Wait a bit and try "
        "again. For more info, please refer to "
        "https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
    ),
}
APP_LEVEL_RATE_CODES = frozenset({4, 17, 613})
TRANSIENT_CODES = frozenset({1, 2, *RATE_LIMIT_MESSAGES})


def default_status(code: int) -> int:
    """The HTTP status Meta pairs with an error code."""
    if code in _STATUS_BY_CODE:
        return _STATUS_BY_CODE[code]
    if 200 <= code <= 299:
        return 403
    return 400


def new_fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16)


class DropConnection(Exception):
    """Close the connection without answering (a timeout, or an upload cut off midway, seen
    from the client)."""


class GraphError(Exception):
    """One Graph API error answer."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        subcode: int | None = None,
        type: str = OAUTH,
        status: int | None = None,
        is_transient: bool | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        oauth_error: str = "invalid_request",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.type = type
        self.status = status if status is not None else default_status(code)
        if is_transient is None and code in TRANSIENT_CODES:
            is_transient = True
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_msg = user_msg
        self.oauth_error = oauth_error

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        if self.user_title:
            error["error_user_title"] = self.user_title
        if self.user_msg:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}

    def headers(self) -> list[tuple[str, str]]:
        """Meta sends `WWW-Authenticate` with its OAuth errors."""
        if self.type != OAUTH:
            return []
        text = self.message.replace('"', "'").encode("latin-1", "replace").decode("latin-1")
        return [("WWW-Authenticate", f'OAuth "Facebook Platform" "{self.oauth_error}" "{text}"')]

    @classmethod
    def from_spec(cls, spec: dict[str, Any], *, app_id: str = "sandbox-app") -> "GraphError":
        """An error described by a fault (`{"status", "code", "subcode", "message", ...}`):
        Meta's wording for a known code and subcode unless the fault gives its own."""
        code = int(spec.get("code", 2))
        raw_subcode = spec.get("subcode", spec.get("error_subcode"))
        subcode = int(raw_subcode) if raw_subcode is not None else None
        error = known_error(code, subcode, app_id=app_id)
        if spec.get("message"):
            error.message = str(spec["message"])
            error.args = (error.message,)
        if spec.get("type"):
            error.type = str(spec["type"])
        if spec.get("status") is not None:
            error.status = int(spec["status"])
        if spec.get("is_transient") is not None:
            error.is_transient = bool(spec["is_transient"])
        error.user_title = (
            spec.get("user_title") or spec.get("error_user_title") or error.user_title
        )
        error.user_msg = spec.get("user_msg") or spec.get("error_user_msg") or error.user_msg
        return error


def _generic_message(code: int) -> str:
    return {
        1: "An unknown error has occurred.",
        2: "An unexpected error has occurred. Please retry your request later.",
        10: "(#10) Application does not have permission for this action",
        190: "Invalid OAuth access token - Cannot parse access token",
        368: "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
        506: "(#506) Duplicate status message",
    }.get(code, f"(#{code}) An error occurred")


# --- tokens ---------------------------------------------------------------------------------


def token_required() -> GraphError:
    return GraphError("An access token is required to request this resource.", code=104)


def token_unparsable() -> GraphError:
    return GraphError(
        "Invalid OAuth access token - Cannot parse access token",
        code=190,
        oauth_error="invalid_token",
    )


def _pacific(ts: float) -> str:
    """Meta words expiry times in its own (Pacific) time zone."""
    try:
        from zoneinfo import ZoneInfo

        moment = datetime.fromtimestamp(ts, ZoneInfo("America/Los_Angeles"))
    except (ImportError, KeyError, OSError, ValueError):
        moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%A, %d-%b-%y %H:%M:%S %Z")


def token_expired(expired_at: float, now: float) -> GraphError:
    return GraphError(
        f"Error validating access token: Session has expired on {_pacific(expired_at)}. "
        f"The current time is {_pacific(now)}.",
        code=190,
        subcode=463,
        oauth_error="invalid_token",
    )


def token_revoked(subcode: int, app_id: str) -> GraphError:
    messages = {
        458: f"Error validating access token: The user has not authorized application {app_id}.",
        460: (
            "Error validating access token: The session has been invalidated because the user "
            "changed their password or Facebook has changed the session for security reasons."
        ),
        467: "Error validating access token: The session is invalid because the user logged out.",
    }
    message = messages.get(subcode, "Error validating access token: The session is invalid.")
    return GraphError(message, code=190, subcode=subcode, oauth_error="invalid_token")


def proof_invalid() -> GraphError:
    return GraphError(
        "Invalid appsecret_proof provided in the API argument", code=100, type=GRAPH_METHOD
    )


def proof_required() -> GraphError:
    return GraphError(
        "API calls from the server require an appsecret_proof argument",
        code=100,
        type=GRAPH_METHOD,
    )


# --- requests -------------------------------------------------------------------------------


def unsupported(method: str, object_id: str) -> GraphError:
    return GraphError(
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        code=100,
        subcode=33,
        type=GRAPH_METHOD,
    )


def nonexisting_field(field: str, node_type: str) -> GraphError:
    return GraphError(
        f"(#100) Tried accessing nonexisting field ({field}) on node type ({node_type})", code=100
    )


def unknown_path(components: str) -> GraphError:
    return GraphError(f"Unknown path components: {components}", code=2500)


def syntax_error(detail: str) -> GraphError:
    return GraphError(f"Syntax error {detail}", code=2500)


def missing_param(name: str) -> GraphError:
    return GraphError(f"(#100) The parameter {name} is required", code=100)


def invalid_param(message: str, *, subcode: int | None = None) -> GraphError:
    if not message.startswith("(#"):
        message = f"(#100) {message}"
    return GraphError(message, code=100, subcode=subcode)


def invalid_cursor(name: str) -> GraphError:
    return GraphError(f"(#100) The {name} parameter is not a valid cursor", code=100)


def invalid_time(name: str, value: str) -> GraphError:
    # Meta's exact words for an unparsable `since` / `until` are not documented.
    return GraphError(
        f"(#100) The parameter {name} must be a Unix timestamp or a strtotime() string, "
        f"not '{value[:60]}'",
        code=100,
    )


def missing_permission(permission: str) -> GraphError:
    return GraphError(
        f"(#10) Application does not have permission for this action; requires {permission}",
        code=10,
    )


def page_publish_permission() -> GraphError:
    return GraphError(
        "(#200) If posting to a group, requires app being installed in the group, and either "
        "publish_to_groups permission with user token, or both pages_read_engagement and "
        "pages_manage_posts permission with page token; If posting to a page, requires both "
        "pages_read_engagement and pages_manage_posts as an admin with sufficient administrative "
        "permission",
        code=200,
        oauth_error="insufficient_scope",
    )


def page_task_required() -> GraphError:
    # Meta documents that publishing needs a person who can perform the CREATE_CONTENT task on
    # the Page, but not the words of the refusal; this text is the sandbox's (see docs).
    return GraphError(
        "(#200) The user must have the CREATE_CONTENT task on the page to perform this action",
        code=200,
        oauth_error="insufficient_scope",
    )


def ig_page_task_required() -> GraphError:
    # Meta: "The app user whose token is used in the request must be able to perform MANAGE or
    # CREATE_CONTENT tasks on the Page connected to the targeted Instagram account."
    return GraphError(
        "(#200) The user must have the MANAGE or CREATE_CONTENT task on the Page connected to "
        "this Instagram account to perform this action",
        code=200,
        oauth_error="insufficient_scope",
    )


def duplicate_status() -> GraphError:
    return GraphError("(#506) Duplicate status message", code=506)


def rate_limited(code: int) -> GraphError:
    return GraphError(RATE_LIMIT_MESSAGES.get(code, _generic_message(code)), code=code)


def unknown_error() -> GraphError:
    return GraphError(_generic_message(1), code=1)


# --- OAuth code exchange --------------------------------------------------------------------


def invalid_app_id() -> GraphError:
    return GraphError("Error validating application. Invalid application ID.", code=101)


def invalid_client_secret() -> GraphError:
    # Code 1, but an OAuthException answered with 400, not a 500 "unknown error".
    return GraphError("Error validating client secret.", code=1, status=400, is_transient=False)


def code_invalid() -> GraphError:
    return GraphError("Invalid verification code format.", code=100, oauth_error="invalid_code")


def code_expired() -> GraphError:
    return GraphError(
        "This authorization code has expired.", code=100, subcode=36007, oauth_error="invalid_code"
    )


def code_redirect_mismatch() -> GraphError:
    return GraphError(
        "Error validating verification code. Please make sure your redirect_uri is identical to "
        "the one you used in the OAuth dialog request",
        code=100,
        subcode=36008,
        oauth_error="invalid_code",
    )


def code_used() -> GraphError:
    return GraphError(
        "This authorization code has been used.",
        code=100,
        subcode=36009,
        oauth_error="invalid_code",
    )


# --- Facebook Page photos -------------------------------------------------------------------


def photo_required() -> GraphError:
    return GraphError("(#324) Requires upload file", code=324)


def photo_invalid() -> GraphError:
    return GraphError("(#324) Missing or invalid image file", code=324)


def invalid_url(param: str) -> GraphError:
    return GraphError(f"(#100) {param} should represent a valid URL", code=100)


# --- Instagram content publishing (Meta's "Error Codes" page of the Instagram Platform) -----


def _ig(message: str, code: int, subcode: int, title: str, user_msg: str) -> GraphError:
    return GraphError(
        message,
        code=code,
        subcode=subcode,
        is_transient=False,
        user_title=title,
        user_msg=user_msg,
    )


def ig_not_ready() -> GraphError:
    return _ig(
        "Media ID is not available",
        9007,
        2207027,
        "Media not ready for publishing",
        "The media is not ready for publishing, please wait for a moment",
    )


def ig_fetch_failed(url: str) -> GraphError:
    return _ig(
        "Only photo or video can be accepted as media type.",
        9004,
        2207052,
        "Media download has failed. The media URI doesn't meet our requirements.",
        f"The media could not be fetched from this URI: {url}. Please check the limitations "
        "section in our development documentation for more details.",
    )


def ig_fetch_timeout() -> GraphError:
    return _ig(
        "The media could not be downloaded in time.",
        -2,
        2207003,
        "Timeout",
        "It takes too long to download the media.",
    )


def ig_unsupported_format() -> GraphError:
    return _ig(
        "The image format is not supported.",
        36001,
        2207005,
        "Unsupported image format",
        "The image format is not supported. Supported formats are: JPEG",
    )


def ig_too_large() -> GraphError:
    return _ig(
        "The image size is too large.",
        36000,
        2207004,
        "Image size too large",
        "The image is too large to download. It should be less than 8 MiB.",
    )


def ig_aspect_ratio() -> GraphError:
    return _ig(
        "The aspect ratio is not supported.",
        36003,
        2207009,
        "Aspect ratio not supported",
        "The submitted image with aspect ratio ('{width}/{height}') cannot be published. Please "
        "submit an image with a valid aspect ratio (between 4:5 and 1.91:1).",
    )


def ig_caption_too_long() -> GraphError:
    return _ig(
        "The caption is too long.",
        36004,
        2207010,
        "Caption too long",
        "The caption was too long. It must be at most 2200 characters, 30 hashtags and 20 @ tags.",
    )


def ig_publishing_limit() -> GraphError:
    return _ig(
        "Application request limit reached",
        9,
        2207042,
        "Max requests limit reached",
        "You reached maximum number of posts that is allowed to be published by Content "
        "Publishing API.",
    )


def ig_expired() -> GraphError:
    return _ig(
        "The media has expired.",
        -2,
        2207020,
        "Media expired",
        "The media you are trying to access has expired. Please try to upload again.",
    )


def ig_container_failed() -> GraphError:
    return _ig(
        "Create media fail",
        -1,
        2207032,
        "Create media fail",
        "Create media fail, please try to re-create media",
    )


def ig_carousel_size() -> GraphError:
    return _ig(
        "Invalid parameter",
        100,
        2207028,
        "Carousel validation failed",
        "Carousels need between 2 and 10 photos or videos.",
    )


def ig_unknown_media_type() -> GraphError:
    return _ig(
        "Invalid parameter",
        100,
        2207023,
        "Unknown media type",
        "The media type is unknown. Use IMAGE, CAROUSEL, REELS, STORIES, or VIDEO for a "
        "carousel item.",
    )


def ig_video_not_single() -> GraphError:
    # Meta: single feed videos are published as REELS; VIDEO is for carousel items. The
    # wording is the sandbox's.
    return _ig(
        "Invalid parameter",
        100,
        2207023,
        "Unknown media type",
        "VIDEO is only a carousel item (is_carousel_item=true); publish a single video as "
        "media_type=REELS.",
    )


def ig_story_caption() -> GraphError:
    # Meta documents that Stories take no caption; the refusal's wording is the sandbox's.
    return GraphError(
        "(#100) Stories do not support a caption",
        code=100,
        is_transient=False,
        user_title="Caption not supported",
        user_msg="A story cannot have a caption. Remove the caption parameter.",
    )


def ig_video_failed(message: str, code: int, subcode: int) -> GraphError:
    """`media_publish` of a video container that ended in ERROR (its code and subcode)."""
    return _ig(message, code, subcode, "Media upload has failed", message)


def ig_unsupported_video() -> GraphError:
    return ig_video_failed(
        "The video format is not supported. Please check spec for supported format",
        352,
        2207026,
    )


def ig_unknown_upload_error() -> GraphError:
    return ig_video_failed("unknown upload error", -1, 2207053)


def ig_thumb_offset(duration_ms: int) -> GraphError:
    return ig_video_failed(
        "Thumbnail offset must be greater than or equal to 0 and less than video duration, "
        f"i.e. {duration_ms}",
        1,
        2207057,
    )


def ig_upload_expired() -> GraphError:
    # Not on Meta's error page; the code (-2, as for other expiries) and words are the sandbox's.
    return ig_video_failed(
        "The upload session has expired. Create a new container and upload again.", -2, 2207082
    )


def ig_collaborators_invalid(detail: str) -> GraphError:
    # Meta: `collaborators` is a list of up to 3 public Instagram usernames, not on Stories;
    # the wording is the sandbox's.
    return invalid_param(f"(#100) Param collaborators {detail}")


def ig_not_on_stories(param: str) -> GraphError:
    return invalid_param(f"(#100) Param {param} is not supported for media_type=STORIES")


def ig_alt_text_images_only() -> GraphError:
    return invalid_param("(#100) Param alt_text is only supported for images")


def ig_already_published() -> GraphError:
    # Meta does not document what a second media_publish of one container answers; an invalid
    # parameter (never a second media object) is what a client must be ready for.
    return GraphError(
        "(#100) The media container has already been published.",
        code=100,
        is_transient=False,
        user_title="Media already published",
        user_msg="This media container has already been published. Read its status_code "
        "instead of publishing it again.",
    )


def known_error(code: int, subcode: int | None, *, app_id: str = "sandbox-app") -> GraphError:
    """The error Meta answers for a code (and subcode), in Meta's words where the sandbox knows
    them; a generic text otherwise."""
    now = datetime.now(UTC).timestamp()
    by_pair: dict[tuple[int, int | None], Callable[[], GraphError]] = {
        (190, 463): lambda: token_expired(now - 60, now),
        (190, 458): lambda: token_revoked(458, app_id),
        (190, 460): lambda: token_revoked(460, app_id),
        (190, 467): lambda: token_revoked(467, app_id),
        (100, 33): lambda: unsupported("get", "0"),
        (100, 36007): code_expired,
        (100, 36008): code_redirect_mismatch,
        (100, 36009): code_used,
        (9007, 2207027): ig_not_ready,
        (9004, 2207052): lambda: ig_fetch_failed("(the image URL)"),
        (9, 2207042): ig_publishing_limit,
        (-2, 2207020): ig_expired,
        (-2, 2207003): ig_fetch_timeout,
        (-1, 2207032): ig_container_failed,
        (36001, 2207005): ig_unsupported_format,
        (36000, 2207004): ig_too_large,
        (36003, 2207009): ig_aspect_ratio,
        (352, 2207026): ig_unsupported_video,
        (-1, 2207053): ig_unknown_upload_error,
        (1, 2207057): lambda: ig_thumb_offset(0),
        (-2, 2207082): ig_upload_expired,
    }
    if (code, subcode) in by_pair:
        return by_pair[(code, subcode)]()
    if code == 104:
        return token_required()
    if code == 200:
        return page_publish_permission()
    if code in RATE_LIMIT_MESSAGES:
        return rate_limited(code)
    return GraphError(
        _generic_message(code),
        code=code,
        subcode=subcode,
        oauth_error="invalid_token" if code in (102, 190) else "invalid_request",
    )
