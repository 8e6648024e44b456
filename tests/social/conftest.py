"""A person clicking in the sandbox's login dialog (the sandbox itself: tests/conftest.py)."""

from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import httpx


class _ConsentForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and (
            a.get("type") == "hidden" or (a.get("type") == "checkbox" and "checked" in a)
        ):
            self.fields.append((a["name"], a.get("value", "")))


def consent(dialog_url: str, decision: str = "allow") -> str:
    """Open the sandbox's login dialog as a person would and press Allow or Deny.

    Returns where the dialog sends the browser back to (our OAuth callback)."""
    page = httpx.get(dialog_url)
    assert page.status_code == 200, page.text
    assert "SANDBOX" in page.text.upper()
    form = _ConsentForm()
    form.feed(page.text)
    answer = httpx.post(
        urljoin(dialog_url, form.action or dialog_url),
        content=urlencode([*form.fields, ("decision", decision)]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["location"]


def path_of(url: str) -> str:
    """The path and query of an absolute URL, for the Django test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
