import pytest
from django.urls import reverse

from analyzer.models import ApiToken
from analyzer.tokens import key_hash

pytestmark = pytest.mark.django_db


def test_staff_create_a_token_and_see_its_key_once(admin_client):
    response = admin_client.post(reverse("admin:analyzer_apitoken_add"), {"name": "moderation bot"})
    assert response.status_code == 200
    html = response.content.decode()
    token = ApiToken.objects.get()
    [key] = [word for word in html.split() if word.startswith("tmx_") and len(word) > 20][:1]
    key = key.split("<")[0]
    assert token.key_hash == key_hash(key)
    assert "will not be shown again" in html
    assert "no-store" in response["Cache-Control"]
    change = admin_client.get(reverse("admin:analyzer_apitoken_change", args=[token.pk]))
    assert key not in change.content.decode()
    listing = admin_client.get(reverse("admin:analyzer_apitoken_changelist")).content.decode()
    assert key not in listing and token.prefix in listing


def test_staff_revoke_tokens_from_the_list(admin_client):
    admin_client.post(reverse("admin:analyzer_apitoken_add"), {"name": "bot"})
    token = ApiToken.objects.get()
    admin_client.post(
        reverse("admin:analyzer_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None and not token.is_active


def test_the_token_admin_needs_a_staff_login(client):
    response = client.get(reverse("admin:analyzer_apitoken_changelist"))
    assert response.status_code == 302
