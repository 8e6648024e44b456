"""The sandbox enforces the Page tasks of the person behind a token, and its token lifetimes are
Meta's: a Page token derived from a long-lived user token outlives that user token."""

from collections.abc import Iterator

import httpx
import pytest

from sandbox import BISTRO_IG_ID, BISTRO_PAGE_ID
from tests.sandbox.test_sandbox import SandboxApi, graph_error, running_sandbox

ANALYZE_ONLY = ["ANALYZE"]
TASK_MESSAGE = (
    "(#200) The user must have the CREATE_CONTENT task on the page to perform this action"
)
IMAGE = "https://cdn.example/photo.jpg"


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox(fetch_media=False) as api:
        yield api


def assert_task_refusal(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 403, response.text
    error = graph_error(response)
    assert (error["code"], error["type"]) == (200, "OAuthException")
    assert str(error["message"]).startswith("(#200) ")
    assert "CREATE_CONTENT" in str(error["message"])
    return error


# --- creating Pages with tasks and changing them ------------------------------------------------


def test_pages_are_created_with_all_five_tasks_by_default(sandbox: SandboxApi) -> None:
    page = sandbox.control("POST", "pages", {"count": 1})["pages"][0]
    token = sandbox.token()

    listed = sandbox.get("/me/accounts", token, fields="id,tasks", limit=100).json()["data"]

    expected = ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE"]
    assert page["tasks"] == expected
    assert next(p for p in listed if p["id"] == page["id"])["tasks"] == expected


def test_an_analyze_only_page_shows_its_tasks_and_cannot_be_published_to(
    sandbox: SandboxApi,
) -> None:
    page = sandbox.control("POST", "pages", {"count": 1, "tasks": ANALYZE_ONLY})["pages"][0]
    user = sandbox.token()
    token = sandbox.page_token(page["id"])

    listed = sandbox.get("/me/accounts", user, fields="id,tasks", limit=100).json()["data"]
    node = sandbox.get(f"/{page['id']}", token, fields="tasks").json()
    feed = sandbox.post(f"/{page['id']}/feed", token, message="hello")
    photo = sandbox.post(f"/{page['id']}/photos", token, url=IMAGE)
    unpublished = sandbox.post(f"/{page['id']}/photos", token, url=IMAGE, published="false")

    assert page["tasks"] == ANALYZE_ONLY
    assert next(p for p in listed if p["id"] == page["id"])["tasks"] == ANALYZE_ONLY
    assert node == {"tasks": ANALYZE_ONLY, "id": page["id"]}
    assert graph_error(feed)["message"] == TASK_MESSAGE
    for response in (feed, photo, unpublished):
        assert_task_refusal(response)
    published = sandbox.published()
    assert (published["summary"]["page_posts"], published["summary"]["photos"]) == (0, 0)


def test_instagram_publishing_needs_create_content_or_manage_on_the_linked_page(
    sandbox: SandboxApi,
) -> None:
    page = sandbox.control("POST", "pages", {"count": 1, "tasks": ANALYZE_ONLY})["pages"][0]
    ig = page["instagram_business_account"]["id"]
    token = sandbox.page_token(page["id"])

    refused = sandbox.post(f"/{ig}/media", token, image_url=IMAGE)
    sandbox.control("POST", f"pages/{page['id']}", {"tasks": ["MANAGE"]})
    container = sandbox.post(f"/{ig}/media", token, image_url=IMAGE).json()["id"]
    sandbox.control("POST", f"pages/{page['id']}", {"tasks": ["ANALYZE", "MODERATE"]})
    publish = sandbox.post(f"/{ig}/media_publish", token, creation_id=container)

    assert_task_refusal(refused)
    assert "MANAGE or CREATE_CONTENT" in graph_error(refused)["message"]
    assert_task_refusal(publish)
    assert sandbox.published()["summary"]["instagram_media"] == 0


def test_a_page_that_loses_create_content_after_connecting(sandbox: SandboxApi) -> None:
    """The product's daily health check must notice: the Page token stays valid, `tasks` says
    what changed, and publishing is refused."""
    token = sandbox.page_token(BISTRO_PAGE_ID)
    assert sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="before").status_code == 200

    changed = sandbox.control(
        "POST", f"pages/{BISTRO_PAGE_ID}", {"tasks": ["ANALYZE", "MODERATE", "ADVERTISE"]}
    )

    assert changed["tasks"] == ["ADVERTISE", "ANALYZE", "MODERATE"]
    assert sandbox.control("GET", f"pages/{BISTRO_PAGE_ID}")["tasks"] == changed["tasks"]
    node = sandbox.get(f"/{BISTRO_PAGE_ID}", token, fields="tasks").json()
    assert node["tasks"] == changed["tasks"]
    assert sandbox.debug(token)["is_valid"] is True
    assert_task_refusal(sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="after"))
    assert_task_refusal(sandbox.post(f"/{BISTRO_IG_ID}/media", token, image_url=IMAGE))
    # Reading still works: ANALYZE is enough to list the Page's posts.
    assert len(sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token).json()["data"]) == 1

    sandbox.control("POST", f"pages/{BISTRO_PAGE_ID}", {"tasks": ["CREATE_CONTENT"]})
    assert sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="again").status_code == 200


def test_reset_restores_the_demo_pages_tasks(sandbox: SandboxApi) -> None:
    sandbox.control("POST", f"pages/{BISTRO_PAGE_ID}", {"tasks": ["ANALYZE"]})

    sandbox.control("POST", "reset")

    assert "CREATE_CONTENT" in sandbox.control("GET", f"pages/{BISTRO_PAGE_ID}")["tasks"]


def test_changed_tasks_survive_a_restart_with_a_state_file(tmp_path: object) -> None:
    state_file = str(tmp_path) + "/sandbox.json"
    with running_sandbox(fetch_media=False, state_file=state_file) as first:
        first.control("POST", f"pages/{BISTRO_PAGE_ID}", {"tasks": ["ANALYZE"]})
        extra = first.control("POST", "pages", {"tasks": ["ANALYZE", "MESSAGING"]})["pages"][0]
    with running_sandbox(fetch_media=False, state_file=state_file) as second:
        assert second.control("GET", f"pages/{BISTRO_PAGE_ID}")["tasks"] == ["ANALYZE"]
        assert second.control("GET", f"pages/{extra['id']}")["tasks"] == ["ANALYZE", "MESSAGING"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("pages", {"tasks": []}, 400),
        ("pages", {"tasks": ["ADMIN"]}, 400),
        ("pages", {"tasks": "ANALYZE"}, 400),
        (f"pages/{BISTRO_PAGE_ID}", {"tasks": ["EDIT"]}, 400),
        (f"pages/{BISTRO_PAGE_ID}", {"name": "Renamed"}, 400),
        ("pages/999", {"tasks": ["ANALYZE"]}, 404),
    ],
)
def test_bad_task_changes_are_refused(
    sandbox: SandboxApi, path: str, body: dict[str, object], status: int
) -> None:
    response = sandbox.http.post(f"/_sandbox/{path}", json=body)

    assert response.status_code == status, response.text
    assert "CREATE_CONTENT" in sandbox.control("GET", f"pages/{BISTRO_PAGE_ID}")["tasks"]


# --- token lifetimes ----------------------------------------------------------------------------


def long_lived_user_token(sandbox: SandboxApi) -> str:
    """Through the product's own path: dialog, code exchange, `fb_exchange_token`."""
    short = sandbox.exchange(sandbox.dialog_code()).json()["access_token"]
    response = sandbox.http.get(
        "/v25.0/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": "sandbox-app",
            "client_secret": "sandbox-secret",
            "fb_exchange_token": short,
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def test_a_page_token_outlives_the_long_lived_user_token_it_came_from(
    sandbox: SandboxApi,
) -> None:
    user = long_lived_user_token(sandbox)
    pages = sandbox.get("/me/accounts", user, fields="id,access_token").json()["data"]
    page = next(p["access_token"] for p in pages if p["id"] == BISTRO_PAGE_ID)
    issued = sandbox.debug(user)
    assert 59 * 86400 < issued["expires_at"] - issued["issued_at"] <= 60 * 86400
    assert issued["data_access_expires_at"] - issued["issued_at"] == 90 * 86400

    sandbox.advance(61 * 86400)

    expired = graph_error(sandbox.get("/me", user))
    assert (expired["code"], expired["error_subcode"]) == (190, 463)
    assert expired["message"].startswith("Error validating access token: Session has expired")
    user_info = sandbox.debug(user)
    assert user_info["is_valid"] is False
    assert (user_info["error"]["code"], user_info["error"]["subcode"]) == (190, 463)
    page_info = sandbox.debug(page)
    assert (page_info["is_valid"], page_info["type"], page_info["expires_at"]) == (True, "PAGE", 0)
    assert page_info["profile_id"] == BISTRO_PAGE_ID
    assert "error" not in page_info
    published = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", page, message="61 days later")
    assert published.status_code == 200, published.text
    assert sandbox.post(f"/{BISTRO_IG_ID}/media", page, image_url=IMAGE).status_code == 200


def test_data_access_expiry_is_reported_but_does_not_stop_a_page_token(
    sandbox: SandboxApi,
) -> None:
    """Meta documents that data access expires after 90 days without the person using the app;
    it does not document Page tokens failing for it, so the sandbox only reports it."""
    user = long_lived_user_token(sandbox)
    pages = sandbox.get("/me/accounts", user, fields="id,access_token").json()["data"]
    page = next(p["access_token"] for p in pages if p["id"] == BISTRO_PAGE_ID)
    issued_at = sandbox.debug(page)["issued_at"]

    sandbox.advance(91 * 86400)

    info = sandbox.debug(page)
    assert info["is_valid"] is True
    assert info["data_access_expires_at"] == issued_at + 90 * 86400
    assert info["data_access_expires_at"] < sandbox.control("GET", "clock")["now"]
    assert sandbox.post(f"/{BISTRO_PAGE_ID}/feed", page, message="91 days").status_code == 200
