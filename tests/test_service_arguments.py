"""One argument convention for the services (docs/architecture.md, "Services, errors and
events"): the member acting is ``actor: Membership``; ``membership=`` only names a membership
acted upon (``membership_remove(actor=…, membership=…)``); platform staff acting from the admin
are ``reviewer: User``; a person who is not a member yet is ``user: User``."""

import importlib
import inspect
import types
import typing
from pathlib import Path

import pytest

from apps.accounts.models import Membership, User

APPS = Path(__file__).resolve().parent.parent / "apps"
SERVICE_MODULES = sorted(
    {
        ".".join(p.relative_to(APPS.parent).with_suffix("").parts)
        for pattern in ("*/services.py", "*/*/service.py", "*/*/services.py")
        for p in APPS.glob(pattern)
    }
)


def _services(module_name: str):
    module = importlib.import_module(module_name)
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if function.__module__ == module_name and not name.startswith("_"):
            yield name, function


def _types(annotation: object) -> set[object]:
    """The types of an annotation, ``X | None`` as ``{X}``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return set(typing.get_args(annotation)) - {type(None)}
    return {annotation}


@pytest.mark.parametrize("module_name", SERVICE_MODULES)
def test_the_member_acting_is_actor_and_a_membership_argument_is_acted_upon(module_name):
    wrong = []
    for name, function in _services(module_name):
        hints = typing.get_type_hints(function)
        for parameter in inspect.signature(function).parameters.values():
            kinds = _types(hints.get(parameter.name))
            if parameter.name == "actor" and kinds != {Membership}:
                wrong.append(f"{name}: actor must be a Membership, not {kinds}")
            if Membership in kinds and parameter.name not in ("actor", "membership"):
                wrong.append(f"{name}: {parameter.name} (the member acting is `actor`)")
            if parameter.name == "membership" and not name.startswith("membership_"):
                wrong.append(f"{name}: membership= is for a membership acted upon; use actor=")
            if User in kinds and parameter.name not in ("user", "reviewer"):
                wrong.append(f"{name}: {parameter.name} (a User is `reviewer` or `user`)")
            if Membership in kinds and parameter.kind is not parameter.KEYWORD_ONLY:
                wrong.append(f"{name}: {parameter.name} must be keyword-only")

    assert not wrong, wrong
