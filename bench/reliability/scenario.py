"""What the reliability suite injects and what it accepts, shared by `make reliability`
(bench/reliability/run.py, 1,000 publications) and its short version in `make test`
(tests/reliability/test_publishing_faults.py, 120 publications).

The mix is every kind the product publishes (bench/publish/run.py `KINDS`: Facebook text, one
photo, several photos; Instagram image and carousel; Threads text, image and carousel;
Instagram with Instagram Login image and carousel). The faults hit every publishing call
(`POST /*/feed`, `POST /*/photos`, `POST /*/media_publish` of both Instagram hosts,
`POST /*/threads_publish`): transient 500s before the call acts, 500s after it acted, timeouts
after it acted and rate limits (not on Threads) — plus **token expiry**: some Pages (and the
Instagram accounts publishing with their Page token) are connected with Page tokens that
expire, some Threads profiles and Instagram-Login accounts with long-lived tokens of their own
that expire, and the sandbox's clock is moved past their expiry mid-run, so their next calls
fail with 190/463 as Meta answers an expired token.

The verdict reads the database and the sandbox's own record (`GET /_sandbox/published`), per
kind: duplicates, lost, live-but-failed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench.publish.run import INSTAGRAM, INSTAGRAM_LOGIN, KINDS, OWN_LOGIN, THREADS, kind_of

# Page tokens of the expiring accounts live this long on the sandbox's clock; the run moves the
# clock forward by EXPIRY_CLOCK_JUMP_SECONDS mid-run, so they expire then and never by accident.
EXPIRING_TOKEN_SECONDS = 3600
EXPIRY_CLOCK_JUMP_SECONDS = 2 * 3600
# Meta's answer to an expired token: OAuthException 190, subcode 463.
TOKEN_EXPIRED = (190, 463)
# The calls that make something visible (a multi-photo post's unpublished uploads are
# `POST /*/photos` too: invisible, safe to repeat). The sandbox matches a fault's path within
# its mount, so `POST /*/media_publish` is both Instagram hosts' (graph.facebook.com's and
# graph.instagram.com's, at /instagram).
PUBLISHING_CALLS = (
    "POST /*/feed",
    "POST /*/photos",
    "POST /*/media_publish",
    "POST /*/threads_publish",
)
# One host's `media_publish` apart from the other's: by the accounts' ids, which the sandbox
# gives in bands of their own — 178414000… to the Instagram accounts of Pages
# (sandbox/networks/instagram.py; also the demo Instagram-Login account, which the suite does
# not publish to), 178414010… to the Instagram-Login accounts the control API adds
# (sandbox/networks/instagram_login.py `EXTRA_ID_BASE`).
INSTAGRAM_PUBLISH = "POST /17841400*/media_publish"
INSTAGRAM_LOGIN_PUBLISH = "POST /17841401*/media_publish"
# The token kinds of graph.instagram.com in the sandbox's call log ("token").
INSTAGRAM_LOGIN_TOKENS = ("ig_short", "ig_long")
# Meta's default result page; reconciliation reads pages of GRAPH_PAGE_SIZE (set to this).
RESULT_PAGE = 25

# The end states the suite accepts, and why (docs/BENCHMARKS.md "Reliability").
ALLOWED_STATES = {
    "published": "at the sandbox exactly once, with the platform id the database holds",
    "failed (token expired)": "an account whose token expired: last_error says so (Graph "
    "190/463, or 'reconnect it, then retry' once the account is marked needs-reconnection), "
    "the account is needs_reauth, and the content is not at the sandbox",
    "waiting for reconnection": "an account whose token expired while an attempt's outcome was "
    "open: waiting (never failed: the post may be live) with a reason that says to reconnect, the "
    "account needs_reauth; once reconnected it reconciles first",
    "waiting (explained)": "only in the short version, or at the long run's timeout: "
    "a wait_reason and a next attempt at most an hour away (a rate limit's announced wait, an "
    "outcome-unknown recheck, a retry after a temporary error)",
}


# --- Faults --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OneShot:
    """How many calls of one publishing endpoint each one-shot fault hits."""

    after_effect_errors: int
    timeouts: int
    rate_limits: int


# The long run's one-shot faults. `POST /*/photos` gets more: three in four of those calls are
# the unpublished uploads of multi-photo posts, so that published photos are hit too.
LONG_RUN = {
    "POST /*/feed": OneShot(after_effect_errors=5, timeouts=3, rate_limits=2),
    "POST /*/photos": OneShot(after_effect_errors=10, timeouts=5, rate_limits=2),
    INSTAGRAM_PUBLISH: OneShot(after_effect_errors=5, timeouts=3, rate_limits=2),
    INSTAGRAM_LOGIN_PUBLISH: OneShot(after_effect_errors=5, timeouts=3, rate_limits=2),
    # Threads announces no rate-limit code of its own here: its 24-hour quota is the sandbox's.
    "POST /*/threads_publish": OneShot(after_effect_errors=5, timeouts=3, rate_limits=0),
}
TRANSIENT = {
    "kind": "error",
    "status": 500,
    "code": 2,
    "message": "An unexpected error has occurred. Please retry your request later.",
    "is_transient": True,
}


def fault_mix(
    one_shots: Mapping[str, OneShot],
    *,
    probability: float,
    transient_probability: float = 0.05,
    timeout_seconds: float = 3,
) -> list[dict[str, Any]]:
    """Faults for every publishing call in `one_shots`: 500s after the call acted, timeouts
    after it acted (held `timeout_seconds`, beyond the client's 2 s timeout), rate limits (Page
    80001, Instagram 80002 on either host; a minute, the shortest Meta announces), each on a
    matching call with `probability` until used up (so they spread over the run), and transient
    500s before the call acts on `transient_probability` of the calls that are left. The sandbox
    takes the first fault that matches: the one-shot faults come first."""
    one_shot: list[dict[str, Any]] = []
    transient: list[dict[str, Any]] = []
    for match, counts in one_shots.items():
        throttle = 80002 if "media_publish" in match else 80001
        for times, fault in (
            (counts.after_effect_errors, {**TRANSIENT, "effect": "after"}),
            (counts.timeouts, {"kind": "timeout_after_effect", "seconds": timeout_seconds}),
            (counts.rate_limits, {"kind": "rate_limit", "code": throttle, "minutes": 1}),
        ):
            if times:
                one_shot.append(
                    {**fault, "match": match, "times": times, "probability": probability}
                )
        transient.append(
            {**TRANSIENT, "match": match, "times": None, "probability": transient_probability}
        )
    return one_shot + transient


def expiry_fault_summary(expiring_accounts: int) -> dict[str, Any]:
    return {
        "kind": "token_expiry",
        "accounts": expiring_accounts,
        "how": f"Page tokens (and Threads and Instagram-Login long-lived tokens) minted with "
        f"expires_in={EXPIRING_TOKEN_SECONDS}; sandbox clock advanced "
        f"{EXPIRY_CLOCK_JUMP_SECONDS} s mid-run",
    }


def faults_fired(calls: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """What the sandbox's call log says it did, by call and fault: `POST /{page-id}/feed
    error/after` and so on; a `POST /{page-id}/photos` that made a visible post is told apart
    from an unpublished upload, and graph.instagram.com's `POST /{ig-login-id}/media_publish`
    (by its token) from graph.facebook.com's `POST /{ig-user-id}/media_publish`. Also the
    expired-token answers and the number of Graph calls."""
    calls = list(calls)
    seen: Counter[str] = Counter()
    for call in calls:
        if (call.get("code"), call.get("subcode")) == TOKEN_EXPIRED:
            seen["token_expired (190/463)"] += 1
        fault = call.get("fault")
        if not fault:
            continue
        # A call refused before it acted has no template in the log: its path, ids taken out.
        # Both Instagram hosts' templates say {ig-user-id}: the token tells them apart.
        path = str(call.get("path"))
        if "threads_" in path:
            account = "{threads-user-id}"
        elif call.get("token") in INSTAGRAM_LOGIN_TOKENS:
            account = "{ig-login-id}"
        elif "media" in path:
            account = "{ig-user-id}"
        else:
            account = "{page-id}"
        template = re.sub(
            r"^/(\d+|\{ig-user-id\})/", f"/{account}/", str(call.get("template") or path)
        )
        if template.endswith("/photos") and call.get("created"):
            visible = "_" in str(call["created"])  # a post id; an upload's is a photo id
            template += " (published)" if visible else " (upload)"
        effect = "/after" if fault == "error" and call.get("effect") == "after" else ""
        seen[f"{call.get('method')} {template} {fault}{effect}"] += 1
    seen["graph_calls"] = len(calls)
    return dict(sorted(seen.items()))


# --- The verdict ---------------------------------------------------------------------------------


@dataclass
class KindVerdict:
    publications: int = 0
    states: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    lost: int = 0
    live_but_failed: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    failed_reasons: Counter[str] = field(default_factory=Counter)
    attempts: Counter[int] = field(default_factory=Counter)
    # Found already published by reconciliation ("Found already published" in the history).
    reconciled: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "publications": self.publications,
            "states": dict(self.states),
            "duplicates": self.duplicates,
            "lost": self.lost,
            "live_but_failed": self.live_but_failed,
            "violations": {k: v for k, v in self.violations.items() if v},
            "failed_reasons": dict(self.failed_reasons.most_common(8)),
            "attempts": dict(sorted(self.attempts.items())),
            "reconciled": self.reconciled,
        }


@dataclass
class Verdict:
    publications: int
    states: dict[str, int]
    duplicates: int
    lost: int
    live_but_failed: int
    by_kind: dict[str, KindVerdict]
    violations: dict[str, int] = field(default_factory=dict)
    # The publications behind each violation (their pks), to look at their history.
    offenders: dict[str, list[int]] = field(default_factory=dict)
    failed_reasons: dict[str, int] = field(default_factory=dict)
    waiting_reasons: dict[str, int] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)
    sandbox_summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.duplicates == 0
            and self.lost == 0
            and self.live_but_failed == 0
            and not any(self.violations.values())
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "publications": self.publications,
            "states": self.states,
            "duplicates": self.duplicates,
            "lost": self.lost,
            "live_but_failed": self.live_but_failed,
            "by_kind": {k: v.as_dict() for k, v in self.by_kind.items()},
            "violations": {k: v for k, v in self.violations.items() if v},
            "offenders": {k: v[:20] for k, v in self.offenders.items() if v},
            "failed_reasons": self.failed_reasons,
            "waiting_reasons": self.waiting_reasons,
            "attempts": self.attempts,
            "sandbox_summary": self.sandbox_summary,
            "ok": self.ok,
        }


def _is_expiry_error(pub: Mapping[str, Any]) -> bool:
    error = pub["last_error"] or ""
    return (pub["error_code"], pub["error_subcode"]) == TOKEN_EXPIRED or (
        "reconnect" in error.lower()
    )


def content_at_sandbox(sandbox_published: Mapping[str, Any]) -> dict[tuple[str, str], list[dict]]:
    """What is live, by (account, text): Page posts (text, photo, multi-photo) by message per
    Page, Instagram media by caption per Instagram account (both logins': the sandbox lists the
    Instagram-Login accounts' media there too, `login: "instagram"`), threads by text per
    Threads profile."""
    live: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for post in sandbox_published.get("page_posts", []):
        live[(str(post["target_id"]), (post.get("message") or "").strip())].append(post)
    for media in sandbox_published.get("instagram_media", []):
        live[(str(media["target_id"]), (media.get("caption") or "").strip())].append(media)
    for thread in sandbox_published.get("threads", []):
        live[(str(thread["target_id"]), (thread.get("text") or "").strip())].append(thread)
    return live


def _shape_fits(kind: str, images: int, item: Mapping[str, Any]) -> bool:
    """The live item is what the kind publishes: a text post without photos, a photo post with
    one, an album with this many; an Instagram IMAGE, or a CAROUSEL_ALBUM with this many (with
    either login); a Threads TEXT_POST, IMAGE, or CAROUSEL_ALBUM with this many."""
    if KINDS[kind].platform == THREADS:
        if images > 1:
            return item.get("media_type") == "CAROUSEL_ALBUM" and len(item["children"]) == images
        return item.get("media_type") == ("IMAGE" if images else "TEXT_POST")
    if KINDS[kind].platform in (INSTAGRAM, INSTAGRAM_LOGIN):
        if images > 1:
            return item.get("media_type") == "CAROUSEL_ALBUM" and len(item["children"]) == images
        return item.get("media_type") == "IMAGE"
    return len(item.get("photo_ids") or []) == images


# Summary fields of `GET /_sandbox/published` that must be empty or zero. The Instagram ones
# count the Instagram-Login accounts' media and containers too (one store for both logins).
SANDBOX_REPEATS = (
    "posts_with_repeated_content",
    "posts_with_repeated_message",
    "instagram_media_with_repeated_content",
    "instagram_media_with_repeated_caption",
    "containers_published_twice",
    "threads_with_repeated_content",
    "threads_containers_published_twice",
)


def judge(
    *,
    publications: Sequence[Mapping[str, Any]],
    sandbox_published: Mapping[str, Any],
    expiring_account_ids: set[int],
    account_status: Mapping[int, str],
    now: datetime,
    allow_waiting: bool,
    reconciled_ids: Iterable[int] = (),
) -> Verdict:
    """Duplicates, losses, live-but-failed and end states of a run, per kind.

    `publications`: dicts with pk, status, account_id, attempts, last_error, error_code,
    error_subcode, wait_reason, next_attempt_at, outcome_unknown, platform_post_id, caption (the
    post's caption, unique per publication in these runs), platform, target_id (the account's
    platform id) and images (`publication_rows`). `reconciled_ids`: publications with a
    "Found already published" event.
    """
    live = content_at_sandbox(sandbox_published)
    reconciled = set(reconciled_ids)
    by_kind = {name: KindVerdict() for name in KINDS}
    offenders: dict[str, list[int]] = defaultdict(list)
    waiting_reasons: Counter[str] = Counter()
    ours: dict[tuple[str, str], Mapping[str, Any]] = {}

    def violation(kv: KindVerdict, name: str, pub: Mapping[str, Any]) -> None:
        kv.violations[name] += 1
        offenders[name].append(int(pub["pk"]))

    for pub in publications:
        kind = kind_of(pub["platform"], pub["images"])
        kv = by_kind[kind]
        kv.publications += 1
        kv.attempts[int(pub["attempts"])] += 1
        kv.reconciled += pub["pk"] in reconciled
        key = (str(pub["target_id"]), (pub["caption"] or "").strip())
        ours[key] = pub
        items = live.get(key, [])
        if len(items) > 1:
            kv.duplicates += 1
            violation(kv, "duplicate_at_sandbox", pub)
        if any(not _shape_fits(kind, pub["images"], item) for item in items):
            violation(kv, "wrong_shape_at_sandbox", pub)
        status = pub["status"]
        if status == "published":
            if not items:
                kv.lost += 1
                violation(kv, "published_but_not_at_sandbox", pub)
            elif pub["platform_post_id"] not in {item["id"] for item in items}:
                kv.lost += 1
                violation(kv, "platform_id_mismatch", pub)
            else:
                kv.states["published"] += 1
        elif status == "failed":
            kv.failed_reasons[(pub["last_error"] or "")[:100]] += 1
            if items:
                # A live post marked failed (also when its outcome was still unknown).
                kv.live_but_failed += 1
                kv.states["failed but live"] += 1
                violation(kv, "failed_but_at_sandbox", pub)
            if not pub["last_error"]:
                reason = "failed_without_reason"
            elif pub["account_id"] not in expiring_account_ids:
                reason = "failed_on_an_account_whose_token_did_not_expire"
            elif not _is_expiry_error(pub):
                reason = "failed_for_another_reason_on_an_expired_account"
            elif account_status.get(pub["account_id"]) != "needs_reauth":
                reason = "expired_account_not_marked_needs_reauth"
            else:
                reason = ""
                if not items:
                    kv.states["failed (token expired)"] += 1
            if reason:
                kv.lost += 1
                violation(kv, reason, pub)
        elif (
            status == "waiting"
            and pub["outcome_unknown"]
            and (pub["wait_reason"] or "").startswith("Reconnect ")
            and pub["account_id"] in expiring_account_ids
            and account_status.get(pub["account_id"]) == "needs_reauth"
        ):
            kv.states["waiting for reconnection"] += 1
        elif status == "waiting" and allow_waiting:
            waiting_reasons[(pub["wait_reason"] or "")[:60]] += 1
            at = pub["next_attempt_at"]
            if not pub["wait_reason"] or at is None or at > now + timedelta(hours=1):
                kv.lost += 1
                violation(kv, "waiting_without_explanation", pub)
            else:
                kv.states["waiting (explained)"] += 1
            if items and not pub["outcome_unknown"]:
                # Live, and the database believes it is not: it would go out again.
                violation(kv, "live_but_waiting_to_publish_again", pub)
        else:
            kv.states[f"{status} (not allowed)"] += 1
            kv.lost += 1
            violation(kv, f"left_{status}", pub)

    # Content at the sandbox that no publication of the run sent.
    global_violations: Counter[str] = Counter()
    global_violations["unknown_content_at_sandbox"] = sum(
        len(items) for key, items in live.items() if key not in ours
    )
    summary = dict(sandbox_published.get("summary", {}))
    for name in SANDBOX_REPEATS:
        if summary.get(name):
            global_violations[f"sandbox_{name}"] = (
                len(summary[name]) if isinstance(summary[name], list) else int(summary[name])
            )

    states: Counter[str] = Counter()
    violations: Counter[str] = Counter(global_violations)
    failed_reasons: Counter[str] = Counter()
    attempts: Counter[int] = Counter()
    for kv in by_kind.values():
        states.update(kv.states)
        violations.update(kv.violations)
        failed_reasons.update(kv.failed_reasons)
        attempts.update(kv.attempts)
    return Verdict(
        publications=len(publications),
        states=dict(states),
        duplicates=sum(kv.duplicates for kv in by_kind.values()),
        lost=sum(kv.lost for kv in by_kind.values()),
        live_but_failed=sum(kv.live_but_failed for kv in by_kind.values()),
        by_kind={k: v for k, v in by_kind.items() if v.publications},
        violations=dict(violations),
        offenders=dict(offenders),
        failed_reasons=dict(failed_reasons.most_common(8)),
        waiting_reasons=dict(waiting_reasons.most_common(8)),
        attempts=dict(sorted(attempts.items())),
        sandbox_summary={k: summary.get(k) for k in ("page_posts_by_kind", *SANDBOX_REPEATS)}
        | {
            k: summary.get(k)
            for k in (
                "instagram_media_by_type",
                "instagram_media_by_login",
                "threads_by_type",
                "instagram_login_media",
                "instagram_login_media_by_type",
            )
        },
    )


def reconciliation_depths(
    *,
    publications: Sequence[Mapping[str, Any]],
    sandbox_published: Mapping[str, Any],
    reconciled_at: Mapping[int, datetime],
    sandbox_offset: Callable[[datetime], float],
) -> dict[str, Any]:
    """Where each post found by reconciliation stood in its account's listing (newest first)
    when it was found: 1 + the posts the account got after it and before the check, counted at
    the sandbox. Beyond RESULT_PAGE, it was not on the first result page. `sandbox_offset(t)`
    is how far the sandbox's clock was ahead at `t` (it jumps at the token expiry)."""
    live = content_at_sandbox(sandbox_published)
    created: dict[str, list[float]] = defaultdict(list)
    for (target, _), items in live.items():
        created[target].extend(float(item["created_at"]) for item in items)
    positions: dict[str, list[int]] = defaultdict(list)
    for pub in publications:
        at = reconciled_at.get(int(pub["pk"]))
        items = live.get((str(pub["target_id"]), (pub["caption"] or "").strip()), [])
        if at is None or len(items) != 1:
            continue
        mine = float(items[0]["created_at"])
        until = at.timestamp() + sandbox_offset(at)
        newer = sum(1 for t in created[str(pub["target_id"])] if mine < t <= until)
        positions[kind_of(pub["platform"], pub["images"])].append(newer + 1)
    return {
        kind: {
            "found": len(found),
            "beyond_first_page": sum(1 for p in found if p > RESULT_PAGE),
            "deepest": max(found),
        }
        for kind, found in positions.items()
    }


# --- Reading the run -----------------------------------------------------------------------------


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
    from django.db.models import Count

    from apps.posts.models import Publication

    rows = Publication.objects.annotate(images=Count("post__post_assets")).values(
        *PUBLICATION_FIELDS,
        "images",
        "post__caption",
        "account__platform",
        "account__platform_id",
    )
    return [
        {
            **row,
            "caption": row.pop("post__caption"),
            "platform": row.pop("account__platform"),
            "target_id": row.pop("account__platform_id"),
        }
        for row in rows
    ]


def reconciled_at() -> dict[int, datetime]:
    """When each publication found by reconciliation was found ("Found already published")."""
    from apps.posts.models import PublicationEvent

    return dict(
        PublicationEvent.objects.filter(kind=PublicationEvent.Kind.RECONCILED).values_list(
            "publication_id", "created_at"
        )
    )


def account_statuses() -> dict[int, str]:
    from apps.social.models import ConnectedAccount

    return dict(ConnectedAccount.objects.values_list("pk", "status"))


def history(pks: Iterable[int], sandbox_published: Mapping[str, Any]) -> list[dict[str, Any]]:
    """For a report: each publication's row, its PublicationEvent history and what the sandbox
    holds with its text."""
    from apps.posts.models import Publication, PublicationEvent

    live = content_at_sandbox(sandbox_published)
    out = []
    for pub in Publication.objects.filter(pk__in=list(pks)).select_related("post", "account"):
        key = (pub.account.platform_id, pub.post.caption.strip())
        out.append(
            {
                "publication": pub.pk,
                "account": f"{pub.account.platform} {pub.account.platform_id}",
                "caption": pub.post.caption,
                "status": pub.status,
                "platform_post_id": pub.platform_post_id,
                "container_id": pub.container_id,
                "child_ids": pub.child_ids,
                "outcome_unknown": pub.outcome_unknown,
                "last_error": pub.last_error,
                "events": list(
                    PublicationEvent.objects.filter(publication=pub).values(
                        "created_at",
                        "kind",
                        "from_status",
                        "to_status",
                        "attempt",
                        "graph_call",
                        "answer",
                        "error_code",
                        "error_subcode",
                        "note",
                    )
                ),
                "at_sandbox": [
                    {k: item.get(k) for k in ("id", "kind", "media_type", "created_time")}
                    | {"timestamp": item.get("timestamp")}
                    for item in live.get(key, [])
                ],
            }
        )
    return out


# --- Token expiry --------------------------------------------------------------------------------


def connect_expiring_tokens(
    post: Any, pages: Iterable[Any], *, now: datetime, own_login: Iterable[Any] = ()
) -> set[int]:
    """Reconnect the Facebook Pages `pages` — and the Instagram accounts linked to them, which
    publish with the same Page token — with a Page token that expires in
    EXPIRING_TOKEN_SECONDS (sandbox clock), and the accounts `own_login` (Threads profiles,
    Instagram-Login accounts) with a long-lived token of their network that expires then too.
    `post(path, payload)` calls the sandbox's control API. Returns the ids of every account
    reconnected so."""
    from apps.social.models import AccessToken

    ids = set()
    for page in pages:
        minted = post(
            "tokens",
            {"kind": "page", "page_id": page.platform_id, "expires_in": EXPIRING_TOKEN_SECONDS},
        )
        for account in [page, *page.children.all()]:
            token = AccessToken.objects.get(account=account)
            token.token = minted["access_token"]
            token.expires_at = now + timedelta(seconds=EXPIRING_TOKEN_SECONDS)
            token.save(update_fields=["token", "expires_at", "updated_at"])
            ids.add(account.pk)
    for account in own_login:
        minted = post(
            OWN_LOGIN[account.platform].tokens,
            {"kind": "long", "user_id": account.platform_id, "expires_in": EXPIRING_TOKEN_SECONDS},
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
