"""Why Instagram refused or could not process a media container, in words a restaurant owner
can act on: the one table of Meta's media error subcodes (Meta, "Instagram Platform — Error
Codes"). Used for a failed call (``GraphError.subcode``) and for a container whose status is
``ERROR`` (Meta names the subcode in its status text: "… failed with error code 2207026").

Which errors are retried is ``apps.social.graph.errors``' classification (2207027 / 9007:
not ready, a transient wait; 2207020 / 2207057: never transient); the sandbox answers the same
codes (``sandbox/errors.py``, ``sandbox/video.py``)."""

import re

# Meta's "the media is not ready for publishing": wait for processing, never a failure.
NOT_READY_SUBCODE = 2207027

MEDIA_REASONS: dict[int, str] = {
    2207001: "It was a server error at Instagram.",
    2207003: "Instagram took too long to download the media from this site.",
    2207004: "The image is larger than Instagram's 8 MB.",
    2207005: "Instagram does not accept this image format (it takes JPEG).",
    2207009: "The image's aspect ratio is outside Instagram's 4:5 to 1.91:1.",
    2207010: "The caption is over Instagram's limits (2,200 characters, 30 hashtags, 20 @tags).",
    2207020: "The media container expired before it was published (after 24 hours).",
    2207023: "Instagram does not know this kind of media.",
    2207026: (
        "Instagram does not accept this video's format: it takes MP4 or MOV with H.264 or HEVC "
        "video and AAC audio, within the format's length and size. Convert the video."
    ),
    2207028: "A carousel needs 2 to 10 photos or videos.",
    2207032: "Instagram could not create the media.",
    2207052: (
        "Instagram could not fetch the media from this site's link: check that the site "
        "(PUBLIC_BASE_URL) is reachable from the internet and the file is still in the library."
    ),
    2207053: "Instagram had an unknown error with the video upload.",
    2207057: "The cover frame's offset is beyond the end of the video: choose an earlier frame.",
    2207082: "Instagram could not use the uploaded media (invalid, or the upload expired).",
}
RETRY_HINT = " Retry to send it again."

_SUBCODE_IN_TEXT = re.compile(r"\b(2207\d{3})\b")


def media_reason(subcode: int | None) -> str:
    """The reason for Meta's subcode, with what to do; "" when the table does not know it."""
    reason = MEDIA_REASONS.get(subcode or 0, "")
    return reason + RETRY_HINT if reason else ""


def subcode_in(text: str | None) -> int | None:
    """The media error subcode Meta names in a container's status text, if any."""
    found = _SUBCODE_IN_TEXT.search(text or "")
    return int(found.group(1)) if found else None
