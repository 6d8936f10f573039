"""Sign-in: throttled and locked out by account and by address (django-axes),
with Django's full password validators for every password set."""

import pytest
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.test import Client

from opsconsole.roles import Role
from tests import factories as f

LIMIT = settings.AXES_FAILURE_LIMIT


def sign_in(email, password, address="198.51.100.7", **headers):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": email, "password": password}, **headers)


@pytest.fixture
def ana(northwind):
    return f.make_user(northwind, Role.SUPPORT, "ana@northwind.example", password="correct horse battery")


def test_the_right_password_signs_in(ana):
    response = sign_in(ana.email, "correct horse battery")
    assert response.status_code == 302 and response.url == "/"


def test_an_account_is_locked_after_repeated_failures_even_for_the_right_password(ana):
    for attempt in range(LIMIT):
        # Each from another address: the account itself is what gets locked.
        assert sign_in(ana.email, f"wrong-{attempt}", address=f"203.0.113.{attempt + 1}").status_code != 302
    response = sign_in(ana.email, "correct horse battery", address="192.0.2.200")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Sign-in locked" in html and "Too many failed sign-ins" in html
    # A hundred more answer the same and change nothing.
    assert all(sign_in(ana.email, "x").status_code == 429 for _ in range(3))


def test_an_address_is_locked_after_failures_on_several_accounts(ana, northwind):
    for n in range(LIMIT):
        sign_in(f"nobody{n}@northwind.example", "guess", address="198.51.100.99")
    assert sign_in(ana.email, "correct horse battery", address="198.51.100.99").status_code == 429
    # Another address still signs the account in.
    assert sign_in(ana.email, "correct horse battery", address="198.51.100.100").status_code == 302


def test_a_successful_sign_in_clears_the_accounts_failures(ana):
    for _ in range(LIMIT - 1):
        sign_in(ana.email, "wrong")
    assert sign_in(ana.email, "correct horse battery").status_code == 302
    for _ in range(LIMIT - 1):
        sign_in(ana.email, "wrong")
    assert sign_in(ana.email, "correct horse battery").status_code == 302


def test_a_locked_out_caller_asking_for_json_gets_json(ana):
    for _ in range(LIMIT):
        sign_in(ana.email, "wrong")
    response = sign_in(ana.email, "wrong", HTTP_ACCEPT="application/json")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.json()["detail"]


@pytest.mark.parametrize("password", ["password", "12345678", "1234567890", "ana@northwind", "short1!"])
def test_weak_passwords_are_refused_when_set(ana, password):
    form = SetPasswordForm(ana, {"new_password1": password, "new_password2": password})
    assert not form.is_valid()
    assert form.errors["new_password2"]


def test_a_strong_password_is_accepted_when_set(ana):
    form = SetPasswordForm(
        ana, {"new_password1": "plum orchard 1987 lantern", "new_password2": "plum orchard 1987 lantern"}
    )
    assert form.is_valid(), form.errors
