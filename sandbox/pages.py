"""The sandbox's few HTML pages: the OAuth consent dialog, its error page, the home page with a
read-out of what was published, and a view of one published post. Every page carries the
"SANDBOX — not Facebook" banner so that nobody mistakes it for the real thing."""

from html import escape
from typing import Any

from .context import graph_time
from .state import SandboxState, UserRecord

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f0f2f5;
color:#1c1e21}
.banner{background:#b00020;color:#fff;font-weight:700;text-align:center;padding:.6rem;
letter-spacing:.04em}
main{max-width:46rem;margin:2rem auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;
box-shadow:0 1px 3px rgba(0,0,0,.2)}
h1{font-size:1.4rem;margin-top:0}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left;vertical-align:top}
.muted{color:#65676b;font-size:.9rem}
.actions{display:flex;gap:1rem;margin-top:1.5rem}
button{font-size:1rem;padding:.6rem 1.4rem;border-radius:6px;border:1px solid #ccd0d5;
cursor:pointer}
button.allow{background:#1877f2;color:#fff;border-color:#1877f2}
code{background:#f5f6f7;padding:0 .25rem;border-radius:3px}
img.pic{width:48px;height:48px;border-radius:50%;vertical-align:middle;margin-right:.5rem}
"""
BANNER = "SANDBOX — not Facebook"


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)} · {BANNER}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<style>{_STYLE}</style></head><body>"
        f"<div class='banner' role='banner'>{BANNER} · a local stand-in for the Graph API; "
        "nothing here reaches Meta</div>"
        f"<main>{body}</main></body></html>"
    )


def error_page(title: str, message: str) -> str:
    return _page(
        title,
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p>"
        "<p class='muted'>The sandbox shows this page instead of redirecting, as Facebook "
        "does when the app or the redirect URI is wrong.</p>",
    )


def dialog_page(
    state: SandboxState,
    action: str,
    params: dict[str, str],
    user: UserRecord,
    scopes: list[str],
) -> str:
    hidden = "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>"
        for k, v in params.items()
        if k in ("client_id", "redirect_uri", "state", "scope", "response_type", "auth_type")
    )
    boxes = "".join(
        "<li><label><input type='checkbox' name='granted_scopes' "
        f"value='{escape(s)}' checked> <code>{escape(s)}</code></label></li>"
        for s in scopes
        if s != "public_profile"
    )
    pages = ", ".join(escape(p.name) for p in state.pages_of(user.id))
    body = f"""
<h1>{escape(state.config.app_name)} wants to connect to your account</h1>
<p><img class='pic' alt='' src='/_sandbox/pictures/{escape(user.id)}'>
Continue as <strong>{escape(user.name)}</strong>
<span class='muted'>({escape(user.email)})</span></p>
<p class='muted'>App id <code>{escape(state.config.app_id)}</code> · returns to
<code>{escape(params.get("redirect_uri", ""))}</code></p>
<form method='post' action='{escape(action)}'>
{hidden}<input type='hidden' name='scopes_form' value='1'>
<p>The app asks for these permissions (untick any you do not want to grant;
<code>public_profile</code> is always granted):</p>
<ul>{boxes or "<li class='muted'>public_profile only</li>"}</ul>
<p class='muted'>The demo user manages: {pages}.</p>
<div class='actions'>
<button class='allow' type='submit' name='decision' value='allow'>Allow</button>
<button type='submit' name='decision' value='deny'>Deny</button>
</div>
</form>"""
    return _page("Log in with Facebook (sandbox)", body)


def _cell(value: Any) -> str:
    return escape("" if value is None else str(value))


def index_page(state: SandboxState, base_url: str) -> str:
    with state.lock:
        config = state.config
        user_rows = "".join(
            f"<tr><td>{_cell(p.name)}</td><td><code>{_cell(p.id)}</code></td>"
            f"<td>{'yes' if p.in_accounts else 'no — Business portfolio only'}</td>"
            f"<td>{_cell('@' + state.ig_accounts[p.ig_id].username if p.ig_id else '—')}</td></tr>"
            for p in state.pages.values()
        )
        posts = sorted(state.posts.values(), key=lambda p: p.created_time, reverse=True)[:30]
        post_rows = "".join(
            f"<tr><td>{graph_time(p.created_time)}</td><td>{_cell(state.pages[p.page_id].name)}</td>"
            f"<td>{_cell(p.message)[:200]}{' 📷' * len(p.photo_ids)}</td>"
            f"<td><a href='/_sandbox/view/{escape(p.id)}'>{escape(p.id)}</a></td></tr>"
            for p in posts
        )
        media = sorted(
            (m for m in state.ig_media.values() if not m.is_carousel_child),
            key=lambda m: m.timestamp,
            reverse=True,
        )[:30]
        media_rows = "".join(
            f"<tr><td>{graph_time(m.timestamp)}</td>"
            f"<td>@{_cell(state.ig_accounts[m.ig_user_id].username)}</td>"
            f"<td>{_cell(m.caption)[:200]} ({_cell(m.media_type)})</td>"
            f"<td><a href='/_sandbox/view/{escape(m.id)}'>{escape(m.id)}</a></td></tr>"
            for m in media
        )
        faults = len(state.faults)
    empty = "<tr><td colspan='4' class='muted'>Nothing yet.</td></tr>"
    body = f"""
<h1>Sandbox Graph API</h1>
<p>A local stand-in for Facebook's Graph API and the Instagram Graph API. Point the product at
<code>{escape(base_url)}</code> (Graph and dialog URL). App id <code>{escape(config.app_id)}</code>;
the app secret is the sandbox's published constant.</p>
<p class='muted'>Latency {config.latency_ms} ms · container processing {config.processing_seconds} s
· Instagram quota {config.quota_total}/24 h · appsecret_proof
{"required" if config.appsecret_proof_required else "optional"} · {faults} fault(s) armed</p>
<h2>Demo data</h2>
<p>User <strong>Sandy Sandbox</strong> (sandy@sandbox.example) manages:</p>
<table><tr><th>Page</th><th>id</th><th>in /me/accounts</th><th>Instagram</th></tr>
{user_rows}</table>
<h2>Facebook posts</h2>
<table><tr><th>when (UTC)</th><th>Page</th><th>message</th><th>id</th></tr>
{post_rows or empty}</table>
<h2>Instagram media</h2>
<table><tr><th>when (UTC)</th><th>account</th><th>caption</th><th>id</th></tr>
{media_rows or empty}</table>
<h2>Control API</h2>
<ul>
<li><a href='/_sandbox/published'>/_sandbox/published</a> — everything published (JSON)</li>
<li><a href='/_sandbox/calls'>/_sandbox/calls</a> — the call log (tokens redacted)</li>
<li><a href='/_sandbox/faults'>/_sandbox/faults</a> — armed faults</li>
<li><a href='/_sandbox/config'>/_sandbox/config</a> — settings</li>
<li><a href='/_sandbox/stats'>/_sandbox/stats</a> — concurrency counters</li>
</ul>"""
    return _page("Sandbox Graph API", body)


def view_page(state: SandboxState, object_id: str) -> str | None:
    """A human view of one published post, photo or Instagram media (its permalink)."""
    with state.lock:
        post = state.posts.get(object_id)
        if post is not None:
            page = state.pages[post.page_id]
            images = "".join(
                f"<p><img alt='' style='max-width:100%' "
                f"src='{escape(state.photos[i].source.url or '/_sandbox/pictures/' + i)}'></p>"
                for i in post.photo_ids
                if i in state.photos
            )
            link = (
                f"<p><a href='{escape(post.link)}'>{escape(post.link)}</a></p>" if post.link else ""
            )
            body = (
                f"<h1>{escape(page.name)}</h1><p class='muted'>{graph_time(post.created_time)}"
                f" · post {escape(post.id)}</p><p>{escape(post.message)}</p>{link}{images}"
            )
            return _page(page.name, body)
        media = state.ig_media.get(object_id)
        if media is not None:
            account = state.ig_accounts[media.ig_user_id]
            images = "".join(
                f"<p><img alt='' style='max-width:100%' src='{escape(url)}'></p>"
                for url in media.image_urls
            )
            body = (
                f"<h1>@{escape(account.username)}</h1><p class='muted'>"
                f"{graph_time(media.timestamp)} · {escape(media.media_type)} "
                f"{escape(media.id)}</p><p>{escape(media.caption or '')}</p>{images}"
            )
            return _page(account.username, body)
        photo = state.photos.get(object_id)
        if photo is not None:
            owner = state.pages[photo.page_id]
            src = photo.source.url or f"/_sandbox/pictures/{photo.id}"
            body = (
                f"<h1>{escape(owner.name)}</h1><p class='muted'>{graph_time(photo.created_time)}"
                f" · photo {escape(photo.id)}</p><p>{escape(photo.caption)}</p>"
                f"<p><img alt='' style='max-width:100%' src='{escape(src)}'></p>"
            )
            return _page(owner.name, body)
        page_record = state.pages.get(object_id)
        if page_record is not None:
            return _page(page_record.name, f"<h1>{escape(page_record.name)}</h1>")
    return None
