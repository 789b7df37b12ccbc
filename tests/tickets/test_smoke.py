async def test_create_and_chat(app, as_user):
    alice = as_user("alice")
    bob = as_user("bob")
    r = await bob.get("/api/v1/me")
    assert r.status_code == 200, r.text
    r = await alice.post("/api/v1/tickets", json={"title": "Leaking tap", "participantIds": ["bob"]})
    assert r.status_code == 201, r.text
    t = r.json()
    r = await alice.post(f"/api/v1/tickets/{t['id']}/messages", json={"content": "hello"})
    assert r.status_code == 201, r.text
    assert r.json()["seq"] == 1
    r = await bob.get("/api/v1/me/unread")
    assert r.json() == {t["id"]: 1}
    r = await bob.get(f"/api/v1/tickets/{t['id']}/messages/search", params={"q": "hel"})
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["highlight"] == "<mark>hello</mark>"
    r = await alice.patch(f"/api/v1/tickets/{t['id']}", json={"status": "InProgress"})
    assert r.status_code == 200, r.text
    r = await bob.get("/api/v1/tickets")
    assert r.status_code == 200, r.text
    print(r.json())
