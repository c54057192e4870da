"""Signup: Django's password validators apply, and the service can close signup by a setting."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def signup(client, password: str, username: str = "carol"):
    return client.post(
        reverse("dashboard:signup"), {"username": username, "password1": password, "password2": password}
    )


def test_signup_refuses_an_all_numeric_password(client, django_user_model):
    response = signup(client, "83920175364028")
    assert response.status_code == 200
    assert "entirely numeric" in " ".join(response.context["form"].errors["password2"])
    assert not django_user_model.objects.exists()


def test_signup_refuses_a_common_password(client, django_user_model):
    response = signup(client, "password123")
    assert "too common" in " ".join(response.context["form"].errors["password2"])
    assert not django_user_model.objects.exists()


def test_signup_refuses_a_password_like_the_username(client, django_user_model):
    response = signup(client, "carolcarol1", username="carolcarol")
    assert response.context["form"].errors["password2"]
    assert not django_user_model.objects.exists()
