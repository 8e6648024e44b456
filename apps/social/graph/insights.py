"""Insights: `GET /{id}/insights` on an Instagram media item or account, a Page post or a Page.

The metric names come from the caller (apps/networks/meta_insights.py is the one table of them);
these functions only ask and read. Meta answers
`{"data": [{"name", "period", "values": [{"value", "end_time"?}], "total_value": {"value"}?,
"title", "description", "id"}]}`; a value is a count or an object of counts. A metric without
data is simply absent. Meta's #10 "Not enough viewers" is GraphNotEnoughViewersError.

Windows: Meta serves Page insights for at most 90 days per call and Instagram account insights
for at most 30, so a longer since/until window is read in several calls and the series joined
(totals cannot be joined: a longer `metric_type=total_value` window is a ValueError).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ._shape import Shape
from .client import GraphClient, get_client
from .errors import GraphNotEnoughViewersError, GraphPermissionError
from .results import InsightMetric, InsightPoint, Insights, InsightValue

# "Only 90 days of insights can be viewed at one time when using the since and until
# parameters" (Page Insights reference); Instagram account insights: 30 days.
PAGE_WINDOW = timedelta(days=90)
IG_ACCOUNT_WINDOW = timedelta(days=30)
TOTAL_VALUE = "total_value"
TIME_SERIES = "time_series"
METRIC_TYPES = (TOTAL_VALUE, TIME_SERIES)


def get_ig_media_insights(
    *, media_id: str, token: str, metrics: Sequence[str], client: GraphClient | None = None
) -> Insights:
    """Lifetime metrics of an Instagram media item (`GET /{ig-media-id}/insights`). The media
    inside an album have none: ask for the album. Stories answer for 24 hours only."""
    params = {"metric": _metric_param(metrics)}
    return Insights(
        object_id=media_id,
        metrics=_read(_call(client or get_client(), media_id, token, params)),
    )


def get_ig_account_insights(
    *,
    ig_user_id: str,
    token: str,
    metrics: Sequence[str],
    since: datetime,
    until: datetime,
    period: str = "day",
    metric_type: str | None = TOTAL_VALUE,
    client: GraphClient | None = None,
) -> Insights:
    """Account metrics over [since, until) (`GET /{ig-user-id}/insights`). With
    `metric_type="total_value"` (what `views` needs) one total per metric over a window of at
    most 30 days (longer: ValueError); with `"time_series"` or None a series, read 30 days a
    call."""
    if metric_type is not None and metric_type not in METRIC_TYPES:
        raise ValueError(f"metric_type is one of {METRIC_TYPES} or None, not {metric_type!r}.")
    windows = _windows(since, until, IG_ACCOUNT_WINDOW)
    if metric_type == TOTAL_VALUE and len(windows) > 1:
        raise ValueError(
            "Instagram totals cover at most 30 days, and totals of unique counts (reach) "
            "cannot be added up: ask for a shorter window or a time series."
        )
    params = {"metric": _metric_param(metrics), "period": period}
    if metric_type is not None:
        params["metric_type"] = metric_type
    return _windowed(client or get_client(), ig_user_id, token, params, windows)


def get_page_post_insights(
    *, post_id: str, token: str, metrics: Sequence[str], client: GraphClient | None = None
) -> Insights:
    """Lifetime metrics of a Page post (`GET /{page-post-id}/insights`, the Page token)."""
    params = {"metric": _metric_param(metrics)}
    return Insights(
        object_id=post_id,
        metrics=_read(_call(client or get_client(), post_id, token, params)),
    )


def get_page_insights(
    *,
    page_id: str,
    token: str,
    metrics: Sequence[str],
    since: datetime,
    until: datetime,
    period: str = "day",
    client: GraphClient | None = None,
) -> Insights:
    """Page metrics over [since, until) (`GET /{page-id}/insights`, the Page token), as series
    by `period`; a window longer than 90 days is read in several calls and joined."""
    params = {"metric": _metric_param(metrics), "period": period}
    windows = _windows(since, until, PAGE_WINDOW)
    return _windowed(client or get_client(), page_id, token, params, windows)


# --- internals ---------------------------------------------------------------------------------


def _metric_param(metrics: Sequence[str]) -> str:
    if isinstance(metrics, str):
        raise TypeError("metrics is a sequence of metric names, not one string.")
    names = list(dict.fromkeys(metrics))
    if not names:
        raise ValueError("Ask for at least one metric (a subject without metrics: ask nothing).")
    for name in names:
        if not isinstance(name, str) or not name or "," in name:
            raise ValueError(f"Not a metric name: {name!r}")
    return ",".join(names)


def _windows(since: datetime, until: datetime, most: timedelta) -> list[tuple[datetime, datetime]]:
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("since and until must be timezone-aware.")
    if until <= since:
        raise ValueError("until must be after since.")
    windows = []
    start = since
    while start < until:
        end = min(start + most, until)
        windows.append((start, end))
        start = end
    return windows


def _call(client: GraphClient, object_id: str, token: str, params: dict[str, str]) -> Shape:
    try:
        response = client.request(
            "GET", "/{id}/insights", ids=(object_id,), token=token, params=params
        )
    except GraphPermissionError as error:
        if GraphNotEnoughViewersError.matches(error):
            raise GraphNotEnoughViewersError.from_error(error) from error
        raise
    return Shape(response)


def _windowed(
    client: GraphClient,
    object_id: str,
    token: str,
    params: dict[str, str],
    windows: list[tuple[datetime, datetime]],
) -> Insights:
    answers = [
        _read(
            _call(
                client,
                object_id,
                token,
                {
                    **params,
                    "since": str(int(start.timestamp())),
                    "until": str(int(end.timestamp())),
                },
            )
        )
        for start, end in windows
    ]
    if len(answers) == 1:
        return Insights(object_id=object_id, metrics=answers[0])
    return Insights(object_id=object_id, metrics=_join(answers))


def _join(answers: list[tuple[InsightMetric, ...]]) -> tuple[InsightMetric, ...]:
    """The series of several windows as one, in order, a point at a window's edge once."""
    joined: dict[tuple[str, str | None], InsightMetric] = {}
    for answer in answers:
        for metric in answer:
            key = (metric.name, metric.period)
            earlier = joined.get(key)
            if earlier is None:
                joined[key] = InsightMetric(
                    name=metric.name, period=metric.period, values=metric.values, title=metric.title
                )
                continue
            seen = {p.end_time for p in earlier.values if p.end_time is not None}
            fresh = tuple(p for p in metric.values if p.end_time is None or p.end_time not in seen)
            joined[key] = InsightMetric(
                name=earlier.name,
                period=earlier.period,
                values=earlier.values + fresh,
                title=earlier.title,
            )
    return tuple(joined.values())


def _read(shape: Shape) -> tuple[InsightMetric, ...]:
    metrics = []
    for item in shape.items(shape.root(), "data"):
        obj = shape.as_object(item, "an item of 'data'")
        name = shape.string(obj, "name")
        points = []
        for raw in shape.opt_items(obj, "values"):
            point = shape.as_object(raw, f"a value of '{name}'")
            points.append(
                InsightPoint(
                    value=_value(shape, point, name),
                    end_time=shape.opt_timestamp(point, "end_time"),
                )
            )
        total = shape.opt_child(obj, "total_value")
        metrics.append(
            InsightMetric(
                name=name,
                period=shape.opt_string(obj, "period"),
                values=tuple(points),
                total_value=_value(shape, total, name) if total is not None else None,
                title=shape.opt_string(obj, "title"),
            )
        )
    return tuple(metrics)


def _value(shape: Shape, obj: dict[str, Any], name: str) -> InsightValue:
    """A count, or an object of counts (`post_reactions_by_type_total`)."""
    value = obj.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, dict) and all(
        isinstance(k, str) and _is_number(v) for k, v in value.items()
    ):
        return dict(value)
    raise shape.fail(f"the value of '{name}' should be a number or an object of numbers")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
