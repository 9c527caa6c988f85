"""Bearer-token check for django-scim2 (its AUTH_CHECK_MIDDLEWARE setting).

A request whose Authorization header is "Bearer $SCIM_TOKEN" runs as a fixed service user
(never saved, so it is not a SCIM resource); any other request gets django-scim2's 401.
"""
import hmac
import os

from django.contrib.auth.models import AnonymousUser
from django_scim.middleware import SCIMAuthCheckMiddleware

from .models import User

TOKEN = os.environ["SCIM_TOKEN"]
SERVICE_USER = User(username="scim-client")


class BearerTokenAuthCheck(SCIMAuthCheckMiddleware):
    def process_request(self, request):
        sent = request.headers.get("Authorization", "")
        ok = hmac.compare_digest(sent.encode(), f"Bearer {TOKEN}".encode())
        request.user = SERVICE_USER if ok else AnonymousUser()
        return super().process_request(request)
