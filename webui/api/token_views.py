"""API token endpoints.

POST /api/v1/token          username + password -> a new token (as documented since the first release)
GET/POST /api/v1/tokens     list the account's tokens (prefix and last use only) / create a named one
DELETE /api/v1/tokens/{id}  revoke one; DELETE /api/v1/tokens/current revokes the token the request used
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from webui.api import tokens
from webui.api.models import ApiToken
from webui.api.pagination import page_of
from webui.api.parsers import LimitedJSONParser
from webui.api.serializers import StrictInputSerializer
from webui.api.throttling import AnonRequestRateThrottle, TokenCreateRateThrottle
from webui.api.views import ApiView


class TokenOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid")
    prefix = serializers.CharField(source="token_key", help_text="The token's first characters, to recognise it.")
    current = serializers.SerializerMethodField(help_text="True for the token this request was made with.")

    class Meta:
        model = ApiToken
        fields = ("id", "name", "prefix", "created", "last_used", "expiry", "current")

    def get_current(self, token: ApiToken) -> bool:
        request = self.context.get("request")
        return getattr(getattr(request, "auth", None), "pk", None) == token.pk


class NewTokenOutput(TokenOutput):
    token = serializers.SerializerMethodField(help_text="The token itself: shown this once, never again.")

    class Meta(TokenOutput.Meta):
        fields = ("token", *TokenOutput.Meta.fields)

    def get_token(self, token: ApiToken) -> str:
        return self.context["secret"]


def _expiry_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=tokens.MAX_EXPIRY_DAYS,
        required=False,
        allow_null=True,
        help_text="Days until the token stops working; omit or null for no expiry.",
    )


class TokenCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    expires_in_days = _expiry_field()


class TokenLoginInput(StrictInputSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(max_length=100, required=False, help_text="Default: 'API login'.")
    expires_in_days = _expiry_field()


class TokenLoginApi(ApiView):
    """Exchange a username and password for a new token. Wrong passwords count towards django-axes' lockout
    (per account and per address, shared with the dashboard login); token requests are rate limited per address."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (TokenCreateRateThrottle, AnonRequestRateThrottle)
    # DRF's obtain_auth_token took form posts too (curl -d username=...&password=...): scripts keep working.
    parser_classes = (LimitedJSONParser, FormParser, MultiPartParser)

    @extend_schema(request=TokenLoginInput, responses=NewTokenOutput, operation_id="token_create_with_password")
    def post(self, request):
        data = self.validated(TokenLoginInput, request.data)
        # The Django request, so django-axes sees the attempt and its middleware can answer a lockout with 429.
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise ValidationError({"non_field_errors": ["Unable to log in with the username and password given."]})
        token, secret = tokens.token_create(
            user=user, name=data.get("name") or "API login", expires_in_days=data.get("expires_in_days")
        )
        return self.output(NewTokenOutput, token, secret=secret)


class TokenListCreateApi(ApiView):
    @extend_schema(responses=page_of(TokenOutput), operation_id="tokens_list")
    def get(self, request):
        return self.paginated(tokens.token_list(user=request.user), TokenOutput)

    @extend_schema(request=TokenCreateInput, responses={201: NewTokenOutput})
    def post(self, request):
        data = self.validated(TokenCreateInput, request.data)
        made_with = request.auth if isinstance(request.auth, ApiToken) else None
        token, secret = tokens.token_create(
            user=request.user, name=data["name"], expires_in_days=data.get("expires_in_days"), made_with=made_with
        )
        return self.output(NewTokenOutput, token, http_status=status.HTTP_201_CREATED, secret=secret)


class TokenDetailApi(ApiView):
    @extend_schema(responses={204: None})
    def delete(self, request, uid):
        if not tokens.token_revoke(user=request.user, uid=uid):
            raise NotFound
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenCurrentApi(ApiView):
    @extend_schema(request=None, responses={204: None}, operation_id="tokens_revoke_current")
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            raise ValidationError({"non_field_errors": ["This request was not made with a token."]})
        tokens.token_revoke_used(request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
