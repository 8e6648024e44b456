"""The brand profile: owners and managers edit it, editors and viewers read it; hashtags are
normalised and checked by ``tenant_brand_update``; a refused change changes nothing."""

import pytest
from django.urls import reverse

from apps.accounts.services import hashtags_normalise, tenant_brand_update
from apps.core.exceptions import ApplicationError, NotPermitted

URL = reverse("brand:profile")


def form(**overrides: str) -> dict[str, str]:
    return {
        "category": "Neapolitan pizzeria",
        "description": "Wood-fired pizza in the old town since 1998.",
        "tone_of_voice": "warm, playful",
        "default_hashtags": "pizza, #Napoli  #pizza\n#woodfired",
        **overrides,
    }


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_owners_and_managers_edit_the_brand_profile(request, client_for, tenant, role):
    member = request.getfixturevalue(role)

    response = client_for(member.user).post(URL, form())

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.category == "Neapolitan pizzeria"
    assert tenant.description == "Wood-fired pizza in the old town since 1998."
    assert tenant.tone_of_voice == "warm, playful"
    assert tenant.default_hashtags == "#pizza #Napoli #woodfired"


def test_the_page_says_what_the_profile_is_for_and_shows_it(client_for, owner, tenant):
    tenant.tone_of_voice = "cheeky"
    tenant.save()

    html = client_for(owner.user).get(URL).content.decode()

    assert "“Draft with AI”" in html
    assert 'value="cheeky"' in html
    assert 'type="submit" class="btn btn-primary">Save' in html


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_read_it_but_cannot_change_it(request, client_for, tenant, role):
    member = request.getfixturevalue(role)
    tenant.category = "Bakery"
    tenant.save()
    client = client_for(member.user)

    page = client.get(URL)
    response = client.post(URL, form())

    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="Bakery"' in html
    assert "disabled" in html
    assert ">Save<" not in html
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.category == "Bakery"


@pytest.mark.parametrize(
    ("hashtags", "message"),
    [
        ("#new-york", "“#new-york” is not a hashtag"),
        ("#café!", "“#café!” is not a hashtag"),
        ("#2024", "a hashtag needs a letter"),
        (" ".join(f"#tag{i}" for i in range(31)), "31 hashtags is too many"),
    ],
)
def test_invalid_hashtags_are_refused_next_to_the_field(
    client_for, owner, tenant, hashtags, message
):
    response = client_for(owner.user).post(URL, form(default_hashtags=hashtags))

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'id="id_default_hashtags_errors"' in html
    tenant.refresh_from_db()
    assert tenant.category == ""  # nothing was saved


def test_a_too_long_description_is_refused(client_for, owner, tenant):
    response = client_for(owner.user).post(URL, form(description="x" * 2001))

    assert response.status_code == 400
    tenant.refresh_from_db()
    assert tenant.description == ""


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("", []),
        ("pizza", ["#pizza"]),
        ("##pizza, Pizza; #PIZZA #pasta", ["#pizza", "#pasta"]),
        ("#café #über_gut", ["#café", "#über_gut"]),
        ("  #a\n\n#b  ", ["#a", "#b"]),
        (" ".join(f"#t{i}" for i in range(30)), [f"#t{i}" for i in range(30)]),
    ],
)
def test_hashtags_normalise(text, tags):
    assert hashtags_normalise(text) == tags


def test_the_service_writes_only_what_changed(owner, tenant, django_assert_max_num_queries):
    tenant_brand_update(
        actor=owner, description="Pizza", category="", tone_of_voice="", default_hashtags=""
    )

    with django_assert_max_num_queries(5) as unchanged:
        tenant_brand_update(
            actor=owner, description=" Pizza ", category="", tone_of_voice="", default_hashtags=""
        )
    with django_assert_max_num_queries(5) as changed:
        tenant_brand_update(
            actor=owner, description="Pizza", category="Bar", tone_of_voice="", default_hashtags=""
        )

    updates = [q["sql"] for q in changed.captured_queries if q["sql"].startswith("UPDATE")]
    assert not any(q["sql"].startswith("UPDATE") for q in unchanged.captured_queries)
    assert len(updates) == 1
    assert '"category"' in updates[0]
    assert '"description"' not in updates[0]


def test_the_service_refuses_editors(editor, tenant):
    with pytest.raises(NotPermitted):
        tenant_brand_update(
            actor=editor, description="x", category="", tone_of_voice="", default_hashtags=""
        )


def test_the_service_refuses_too_long_values(owner):
    with pytest.raises(ApplicationError) as exc:
        tenant_brand_update(
            actor=owner, description="", category="c" * 121, tone_of_voice="", default_hashtags=""
        )
    assert exc.value.code == "category_too_long"
