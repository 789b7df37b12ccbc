"""The OpenAPI document describes every push endpoint with its request and response models."""

from __future__ import annotations

from tests.push.conftest import Push


async def test_push_endpoints_are_in_the_openapi_document(push: Push):
    spec = (await push.client("alice").get("/openapi.json")).json()
    paths = spec["paths"]
    schemas = spec["components"]["schemas"]

    def response_ref(path: str, method: str, status: str) -> str:
        content = paths[path][method]["responses"][status]["content"]["application/json"]["schema"]
        return content.get("$ref") or content["items"]["$ref"]

    assert response_ref("/api/v1/push/public-key", "get", "200").endswith("/PublicKey")
    assert response_ref("/api/v1/me/push-subscriptions", "get", "200").endswith("/SubscriptionOut")
    assert response_ref("/api/v1/me/push-subscriptions", "post", "201").endswith("/SubscriptionOut")
    assert response_ref("/api/v1/me/push-subscriptions", "post", "200").endswith("/SubscriptionOut")
    body = paths["/api/v1/me/push-subscriptions"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/Subscribe")
    assert "204" in paths["/api/v1/me/push-subscriptions/{subscription_id}"]["delete"]["responses"]
    assert response_ref("/api/v1/push/deliveries", "get", "200").endswith("/PushDeliveryPage")
    change = paths["/api/v1/push/subscription-change"]["post"]
    assert change["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SubscriptionChange"
    )
    assert response_ref("/api/v1/push/subscription-change", "post", "200").endswith("/SubscriptionOut")
    assert "204" in change["responses"] and not change.get("security")  # the auth secret is its proof
    assert {"oldEndpoint", "oldAuth", "newSubscription"} == set(schemas["SubscriptionChange"]["properties"])
    assert {"id", "endpoint", "userAgent", "createdAt", "lastSuccessAt"} == set(
        schemas["SubscriptionOut"]["properties"]
    )
    assert {"id", "type", "title", "body", "ticketId", "url"} == set(schemas["PushPayload"]["properties"])
