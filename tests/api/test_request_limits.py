"""Request bodies past the API's limits (issue 13, defect 5): a 413 / 400 problem document, never
a 500, and nothing stored. The limits are Django's DATA_UPLOAD_* and JSON_MAX_DEPTH (settings)."""

import json

import pytest
from django.conf import settings
from django.test import Client
from django.test.client import MULTIPART_CONTENT, encode_multipart

from apps.assets.models import BrandAsset
from apps.core.json_depth import json_depth_exceeds
from apps.posts.models import Post
from tests.api.helpers import assert_problem, jpeg, upload

MB = 1024 * 1024
JSON_MAX_DEPTH = 32  # settings.JSON_MAX_DEPTH, as docs/api.md states it


@pytest.mark.parametrize("size", [3 * MB, 20 * MB], ids=["3MB", "20MB"])
def test_a_json_body_over_the_limit_is_a_413_problem(api, page, size):
    body = json.dumps({"caption": "x" * size, "targets": [page.pk]})

    response = api.post("/api/v1/posts/", body, content_type="application/json")

    problem = assert_problem(response, 413, "request_too_large")
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in problem["detail"]
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        '{"a":' * 5_000 + "1" + "}" * 5_000,
        '{"caption": "deep", "targets": ' + "[" * 32 + "1" + "]" * 32 + "}",
    ],
    ids=["100k-brackets", "5000-deep-objects", "33-deep-inside-a-post"],
)
def test_json_nesting_past_the_limit_is_a_400_problem(api, body):
    response = api.post("/api/v1/posts/", body, content_type="application/json")

    problem = assert_problem(response, 400, "json_too_deep")
    assert str(JSON_MAX_DEPTH) in problem["detail"]
    assert not Post.objects.exists()


def test_json_nesting_within_the_limit_is_parsed_as_usual(api, page):
    # 32 levels, and brackets in strings are text: the post's own validation answers.
    nested = "[" * (JSON_MAX_DEPTH - 1) + "]" * (JSON_MAX_DEPTH - 1)
    body = '{"caption": "[[[[{{{{' + "[" * 100 + '", "targets": ' + nested + "}"

    response = api.post("/api/v1/posts/", body, content_type="application/json")

    assert_problem(response, 400, "invalid")


def test_the_depth_check_reads_json_as_json():
    assert not json_depth_exceeds('["[[[[[[", {"a": "\\"[[[["}]', limit=2)
    assert json_depth_exceeds("[[[]]]", limit=2)
    assert not json_depth_exceeds("[[]][[]][[]]", limit=2)
    assert json_depth_exceeds("[" * 3, limit=2)  # unbalanced counts as deep


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("caption=" + "x" * (3 * MB), id="over-the-size-limit"),
        pytest.param(
            "&".join(f"field{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)),
            id="too-many-fields",
        ),
    ],
)
def test_a_form_body_is_a_415_problem_and_is_not_read(api, body):
    # Bodies are JSON (multipart for the upload): a form, however large, is refused unread.
    response = api.post("/api/v1/posts/", body, content_type="application/x-www-form-urlencoded")

    assert_problem(response, 415, "unsupported_media_type")
    assert not Post.objects.exists()


def test_a_session_form_is_a_415_problem_before_the_csrf_check_reads_it(owner):
    # Session authentication's CSRF check asks for the form; the parser refuses it unread.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner.user)
    browser.cookies[settings.CSRF_COOKIE_NAME] = "k" * 32  # a cookie, but no token in the form

    response = browser.post(
        "/api/v1/posts/",
        "caption=" + "x" * (3 * MB),
        content_type="application/x-www-form-urlencoded",
    )

    assert_problem(response, 415, "unsupported_media_type")
    assert not Post.objects.exists()


def test_multipart_fields_over_the_limit_are_a_413_problem(api, stored_files):
    body = encode_multipart("BoUnDaRy", {"file": upload(), "alt_text": "x" * (3 * MB)})

    response = api.generic(
        "POST", "/api/v1/assets/", body, content_type="multipart/form-data; boundary=BoUnDaRy"
    )

    assert_problem(response, 413, "request_too_large")
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_a_multipart_with_too_many_files_is_a_400_problem(api, stored_files):
    image = jpeg(40, 40)
    files = [
        upload(image, name=f"{i}.jpg") for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    ]

    response = api.post("/api/v1/assets/", {"file": files}, content_type=MULTIPART_CONTENT)

    assert_problem(response, 400, "too_many_files")
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_the_schema_documents_the_413_of_operations_with_a_body(client, db):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert "413" in paths["/api/v1/posts/"]["post"]["responses"]
    assert "413" in paths["/api/v1/assets/"]["post"]["responses"]
    assert "413" not in paths["/api/v1/posts/"]["get"]["responses"]
