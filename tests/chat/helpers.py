from typing import Any


async def register(app: Any, *user_ids: str) -> None:
    """Create users the way the product's backend would (PUT /users/{id} as a service)."""
    async with app.client("svc", role="service") as svc:
        for user_id in user_ids:
            r = await svc.put(
                f"/api/v1/users/{user_id}", json={"name": user_id.title(), "email": f"{user_id}@example.com"}
            )
            assert r.status_code == 200, r.text


async def ticket_with(client: Any, *participant_ids: str, title: str = "A ticket") -> dict[str, Any]:
    r = await client.post("/api/v1/tickets", json={"title": title, "participantIds": list(participant_ids)})
    assert r.status_code == 201, r.text
    return r.json()
