"""Per-plan request limits, counted in the cache (Redis in production) so that every web process
shares the count: fixed one-hour windows per tenant."""

import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle


def _parse(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    return int(count), seconds


class PlanRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        membership = getattr(request._request, "api_membership", None)
        if membership is None:
            return True
        tenant = membership.tenant
        rate = settings.API_THROTTLE_RATES.get(tenant.plan) or settings.API_THROTTLE_RATES["basic"]
        limit, period = _parse(rate)
        now = time.time()
        window = int(now // period)
        key = f"api-throttle:{tenant.pk}:{window}"
        cache = caches[settings.API_THROTTLE_CACHE]
        cache.add(key, 0, timeout=period + 60)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 60)
            count = 1
        if count > limit:
            self.wait_seconds = (window + 1) * period - now
            return False
        return True

    def wait(self) -> float | None:
        return self.wait_seconds
