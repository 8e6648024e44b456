"""The sandbox's few HTML pages: the OAuth consent dialog, its error page, the home page with a
read-out of what was published, and a view of one published post. Every page carries the
"SANDBOX — not Facebook" banner so that nobody mistakes it for the real thing."""

from html import escape

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
    # What the person manages on the networks this app asks permissions of (not Threads
    # profiles on Facebook's dialog).
    asked = set(scopes)
    notes = "".join(
        network.dialog_note(state, user)
        for network in state.networks
        if asked & set(network.scopes)
    )
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
{notes}
<div class='actions'>
<button class='allow' type='submit' name='decision' value='allow'>Allow</button>
<button type='submit' name='decision' value='deny'>Deny</button>
</div>
</form>"""
    return _page("Log in with Facebook (sandbox)", body)


def index_page(state: SandboxState, base_url: str) -> str:
    with state.lock:
        config = state.config
        sections = "".join(network.index_html(state) for network in state.networks)
        faults = len(state.faults)
    body = f"""
<h1>Sandbox Graph API</h1>
<p>A local stand-in for Facebook's Graph API and the Instagram Graph API, with Threads at
<code>/threads</code> and Instagram with Instagram Login at <code>/instagram</code>. Point the
product at <code>{escape(base_url)}</code> (Graph and dialog URL).
App id <code>{escape(config.app_id)}</code>; the app secret is the sandbox's published constant.</p>
<p class='muted'>Latency {config.latency_ms} ms · container processing {config.processing_seconds} s
· Instagram quota {config.quota_total}/24 h · appsecret_proof
{"required" if config.appsecret_proof_required else "optional"} · {faults} fault(s) armed</p>
{sections}
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
    """A human view of one published object (its permalink), from the network that has it."""
    with state.lock:
        for network in state.networks:
            found = network.view_html(state, object_id)
            if found is not None:
                return _page(*found)
    return None
