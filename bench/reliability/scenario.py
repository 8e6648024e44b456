"""What the reliability suite injects and what it accepts, shared by `make reliability`
(bench/reliability/run.py, 1,000 publications) and its short version in `make test`
(tests/reliability/test_publishing_faults.py, 100 publications).

The fault mix is the publishing benchmark's (bench/publish/run.py `FAULTS`: Graph 500s,
timeouts after the call took effect, rate limits) plus **token expiry**: some accounts are
connected with Page tokens that expire, and the sandbox's clock is moved past their expiry
mid-run, so their next calls fail with 190/463 as Meta answers an expired token.

The verdict reads the database and the sandbox's own record (`GET /_sandbox/published`).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Page tokens of the expiring accounts live this long on the sandbox's clock; the run moves the
# clock forward by EXPIRY_CLOCK_JUMP_SECONDS mid-run, so they expire then and never by accident.
EXPIRING_TOKEN_SECONDS = 3600
EXPIRY_CLOCK_JUMP_SECONDS = 2 * 3600
# Meta's answer to an expired token: OAuthException 190, subcode 463.
TOKEN_EXPIRED = (190, 463)

# The end states the suite accepts, and why (docs/BENCHMARKS.md "Reliability").
ALLOWED_STATES = {
    "published": "at the sandbox exactly once, with the platform id the database holds",
    "failed (token expired)": "an account whose token expired: last_error says so (Graph "
    "190/463, or 'reconnect it, then retry' once the account is marked needs-reconnection), "
    "and the account is needs_reauth",
    "waiting (explained)": "only in the short version, or at the long run's timeout: "
    "a wait_reason and a next attempt at most an hour away (a rate limit's announced wait, an "
    "outcome-unknown recheck, a retry after a temporary error)",
}


def fault_mix(
    base: Iterable[Mapping[str, Any]],
    *,
    timeouts: int | None = None,
    rate_limits: int | None = None,
    timeout_seconds: float | None = None,
) -> list[dict[str, Any]]:
    """The benchmark's fault list with fewer one-shot faults (for the short version) and a
    different hold for `timeout_after_effect` (it must exceed the client's timeout)."""
    faults = [copy.deepcopy(dict(f)) for f in base]
    for fault in faults:
        if fault["kind"] == "timeout_after_effect":
            if timeouts is not None:
                fault["times"] = timeouts
            if timeout_seconds is not None:
                fault["seconds"] = timeout_seconds
        if fault["kind"] == "rate_limit" and rate_limits is not None:
            fault["times"] = rate_limits
    return faults


def expiry_fault_summary(expiring_accounts: int) -> dict[str, Any]:
    return {
        "kind": "token_expiry",
        "accounts": expiring_accounts,
        "how": f"Page tokens minted with expires_in={EXPIRING_TOKEN_SECONDS}; sandbox clock "
        f"advanced {EXPIRY_CLOCK_JUMP_SECONDS} s mid-run",
    }


@dataclass
class Verdict:
    publications: int
    states: dict[str, int]
    duplicates: int
    lost: int
    violations: dict[str, int] = field(default_factory=dict)
    failed_reasons: dict[str, int] = field(default_factory=dict)
    waiting_reasons: dict[str, int] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.duplicates == 0 and self.lost == 0 and not any(self.violations.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "publications": self.publications,
            "states": self.states,
            "duplicates": self.duplicates,
            "lost": self.lost,
            "violations": {k: v for k, v in self.violations.items() if v},
            "failed_reasons": self.failed_reasons,
            "waiting_reasons": self.waiting_reasons,
            "attempts": self.attempts,
            "ok": self.ok,
        }


def _is_expiry_error(pub: Mapping[str, Any]) -> bool:
    error = pub["last_error"] or ""
    return (pub["error_code"], pub["error_subcode"]) == TOKEN_EXPIRED or (
        "reconnect" in error.lower()
    )


def judge(
    *,
    publications: list[Mapping[str, Any]],
    sandbox_published: Mapping[str, Any],
    expiring_account_ids: set[int],
    account_status: Mapping[int, str],
    now: datetime,
    allow_waiting: bool,
) -> Verdict:
    """Duplicates, losses and states of a run.

    `publications`: dicts with pk, status, account_id, attempts, last_error, error_code,
    error_subcode, wait_reason, next_attempt_at, outcome_unknown, platform_post_id and caption
    (the post's caption, unique per publication in these runs).
    """
    posts = sandbox_published.get("page_posts", [])
    by_message = Counter(p.get("message", "") for p in posts)
    ids_by_message = {p.get("message", ""): p["id"] for p in posts}
    duplicates = sum(1 for n in by_message.values() if n > 1)
    repeated = sandbox_published.get("summary", {}).get("posts_with_repeated_content") or []
    duplicates = max(duplicates, len(repeated))

    v: Counter[str] = Counter()
    states: Counter[str] = Counter()
    failed_reasons: Counter[str] = Counter()
    waiting_reasons: Counter[str] = Counter()
    known_captions = set()
    for pub in publications:
        status, caption = pub["status"], pub["caption"]
        known_captions.add(caption)
        if status == "published":
            states["published"] += 1
            if caption not in ids_by_message:
                v["published_but_not_at_sandbox"] += 1
            elif ids_by_message[caption] != pub["platform_post_id"]:
                v["platform_id_mismatch"] += 1
        elif status == "failed":
            failed_reasons[(pub["last_error"] or "")[:100]] += 1
            if not pub["last_error"]:
                v["failed_without_reason"] += 1
            elif pub["account_id"] not in expiring_account_ids:
                v["failed_on_an_account_whose_token_did_not_expire"] += 1
            elif not _is_expiry_error(pub):
                v["failed_for_another_reason_on_an_expired_account"] += 1
            elif account_status.get(pub["account_id"]) != "needs_reauth":
                v["expired_account_not_marked_needs_reauth"] += 1
            else:
                states["failed (token expired)"] += 1
            if caption in ids_by_message and not pub["outcome_unknown"]:
                v["failed_but_at_sandbox"] += 1
        elif status == "waiting" and allow_waiting:
            waiting_reasons[(pub["wait_reason"] or "")[:60]] += 1
            at = pub["next_attempt_at"]
            if not pub["wait_reason"] or at is None or at > now + timedelta(hours=1):
                v["waiting_without_explanation"] += 1
            else:
                states["waiting (explained)"] += 1
        else:
            states[f"{status} (not allowed)"] += 1
            v[f"left_{status}"] += 1
    # A post at the sandbox the database does not call published: allowed only while its
    # publication's outcome is unknown (it will be reconciled, never posted again).
    unknown = {p["caption"] for p in publications if p["outcome_unknown"]}
    published_captions = {p["caption"] for p in publications if p["status"] == "published"}
    v["orphans_at_sandbox"] = sum(
        1 for m in by_message if m not in published_captions and m not in unknown
    )
    lost = sum(
        v[k]
        for k in (
            "published_but_not_at_sandbox",
            "failed_without_reason",
            "waiting_without_explanation",
        )
    ) + sum(n for k, n in v.items() if k.startswith("left_"))
    return Verdict(
        publications=len(publications),
        states=dict(states),
        duplicates=duplicates,
        lost=lost,
        violations=dict(v),
        failed_reasons=dict(failed_reasons.most_common(8)),
        waiting_reasons=dict(waiting_reasons.most_common(8)),
        attempts=dict(sorted(Counter(int(p["attempts"]) for p in publications).items())),
    )


PUBLICATION_FIELDS = (
    "pk",
    "status",
    "account_id",
    "attempts",
    "last_error",
    "error_code",
    "error_subcode",
    "wait_reason",
    "next_attempt_at",
    "outcome_unknown",
    "platform_post_id",
)


def publication_rows() -> list[dict[str, Any]]:
    """Every publication as `judge` reads it (Django must be set up)."""
    from apps.posts.models import Publication

    return [
        {**row, "caption": row.pop("post__caption")}
        for row in Publication.objects.values(*PUBLICATION_FIELDS, "post__caption")
    ]


def account_statuses() -> dict[int, str]:
    from apps.social.models import ConnectedAccount

    return dict(ConnectedAccount.objects.values_list("pk", "status"))


def connect_expiring_tokens(post: Any, accounts: Iterable[Any], *, now: datetime) -> set[int]:
    """Reconnect `accounts` with Page tokens that expire in EXPIRING_TOKEN_SECONDS (sandbox
    clock). `post(path, payload)` calls the sandbox's control API. Returns the account ids."""
    from apps.social.models import AccessToken

    ids = set()
    for account in accounts:
        minted = post(
            "tokens",
            {"kind": "page", "page_id": account.platform_id, "expires_in": EXPIRING_TOKEN_SECONDS},
        )
        token = AccessToken.objects.get(account=account)
        token.token = minted["access_token"]
        token.expires_at = now + timedelta(seconds=EXPIRING_TOKEN_SECONDS)
        token.save(update_fields=["token", "expires_at", "updated_at"])
        ids.add(account.pk)
    return ids


def expire_tokens(post: Any) -> None:
    """Move the sandbox's clock past the expiring tokens' expiry: from now on every call made
    with them answers 190/463 ("Session has expired")."""
    post("clock", {"advance_seconds": EXPIRY_CLOCK_JUMP_SECONDS})
