"""Meta's Graph API versions and the day each stops working: the one table (docs/operations.md,
"Upgrading the Graph API version"). Source: developers.facebook.com/docs/graph-api/changelog/
versions ("Available Until"), read when v26.0 was the newest; add a row when Meta announces a
version or a date. ``None``: Meta has not announced the end yet."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import timezone

from apps.core.hooks import SystemWarning

WARN_WITHIN_DAYS = 90

# version -> (released, available until)
VERSIONS: dict[str, tuple[date, date | None]] = {
    "v26.0": (date(2026, 7, 29), None),
    "v25.0": (date(2026, 2, 18), date(2028, 7, 29)),
    "v24.0": (date(2025, 10, 8), date(2028, 2, 18)),
    "v23.0": (date(2025, 5, 29), date(2027, 10, 8)),
    "v22.0": (date(2025, 1, 21), date(2027, 5, 20)),
    "v21.0": (date(2024, 10, 2), date(2027, 1, 21)),
    "v20.0": (date(2024, 5, 21), date(2026, 9, 24)),
    "v19.0": (date(2024, 1, 23), date(2026, 5, 21)),
    "v18.0": (date(2023, 9, 12), date(2026, 1, 26)),
    "v17.0": (date(2023, 5, 23), date(2025, 9, 12)),
    "v16.0": (date(2023, 2, 2), date(2025, 5, 14)),
    "v15.0": (date(2022, 9, 15), date(2024, 11, 20)),
    "v14.0": (date(2022, 5, 25), date(2024, 9, 17)),
    "v13.0": (date(2022, 2, 8), date(2024, 5, 28)),
    "v12.0": (date(2021, 9, 14), date(2024, 2, 8)),
    "v11.0": (date(2021, 6, 8), date(2023, 9, 14)),
    "v10.0": (date(2021, 2, 23), date(2023, 6, 8)),
    "v9.0": (date(2020, 11, 10), date(2023, 2, 23)),
    "v8.0": (date(2020, 8, 4), date(2022, 11, 1)),
    "v7.0": (date(2020, 5, 5), date(2022, 8, 4)),
    "v6.0": (date(2020, 2, 3), date(2022, 5, 5)),
    "v5.0": (date(2019, 10, 29), date(2022, 2, 3)),
    "v4.0": (date(2019, 7, 29), date(2021, 11, 2)),
}


@dataclass(frozen=True)
class VersionStatus:
    version: str
    known: bool
    end_of_life: date | None
    days_left: int | None  # None when unknown or not announced; negative once ended


def version_status(version: str, *, today: date) -> VersionStatus:
    if version not in VERSIONS:
        return VersionStatus(version, known=False, end_of_life=None, days_left=None)
    end = VERSIONS[version][1]
    return VersionStatus(
        version, known=True, end_of_life=end, days_left=None if end is None else (end - today).days
    )


def today() -> date:
    return timezone.now().date()


# The settings that name a Graph API version: Facebook's (and Instagram through Facebook Login)
# and Instagram with Instagram Login's (graph.instagram.com follows the same versions). Threads
# has versions of its own (v1.0), without a published end.
VERSION_SETTINGS = ("FACEBOOK_GRAPH_VERSION", "INSTAGRAM_LOGIN_GRAPH_VERSION")


def graph_version_warnings() -> list[SystemWarning]:
    """The ``apps.core.hooks`` warnings of the social app: a configured Graph API version
    (``VERSION_SETTINGS``) ends within ``WARN_WITHIN_DAYS``, has ended, or is not in the table
    (a typo, or a version newer than this release knows). One warning per version."""
    by_version: dict[str, list[str]] = {}
    for name in VERSION_SETTINGS:
        by_version.setdefault(str(getattr(settings, name)), []).append(name)
    warnings = []
    for version, names in by_version.items():
        warning = _version_warning(version, " and ".join(names))
        if warning is not None:
            warnings.append(warning)
    return warnings


def _version_warning(version: str, names: str) -> SystemWarning | None:
    status = version_status(version, today=today())
    how = "see docs/operations.md, “Upgrading the Graph API version”"
    if not status.known:
        return SystemWarning(
            "graph_version_unknown",
            f"{names}={status.version} is not a Graph API version this release knows, so its "
            f"end of life cannot be checked; {how}.",
        )
    if status.days_left is None or status.days_left > WARN_WITHIN_DAYS:
        return None
    end = status.end_of_life.isoformat() if status.end_of_life else ""
    if status.days_left < 0:
        message = f"Graph API {status.version} ({names}) reached its end of life on {end}"
        return SystemWarning("graph_version_ended", f"{message}: upgrade now; {how}.")
    message = (
        f"Graph API {status.version} ({names}) reaches its end of life on {end}, in "
        f"{status.days_left} day{'s' if status.days_left != 1 else ''}"
    )
    return SystemWarning("graph_version_ending", f"{message}: upgrade before then; {how}.")
