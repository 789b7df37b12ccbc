from tests.chat.helpers import register, ticket_with


async def _post(client, tid, content):
    r = await client.post(f"/api/v1/tickets/{tid}/messages", json={"content": content})
    assert r.status_code == 201, r.text
    return r.json()


async def test_stemming_prefix_ranking_and_highlights(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    await _post(alice, tid, "The technician is running late today")
    await _post(alice, tid, "Invoice sent; the invoice total is 300 AED, invoice attached")
    await _post(alice, tid, "Unrelated chatter about <b>lunch</b> & coffee")
    search = f"/api/v1/tickets/{tid}/messages/search"

    r = await alice.get(search, params={"q": "runs"})  # stemming: runs ~ running
    assert [m["seq"] for m in r.json()["items"]] == [1]
    assert "<mark>running</mark>" in r.json()["items"][0]["highlight"]
    r = await alice.get(search, params={"q": "techn"})  # prefix
    assert [m["seq"] for m in r.json()["items"]] == [1]
    r = await alice.get(search, params={"q": "invoice total"})
    assert [m["seq"] for m in r.json()["items"]] == [2]
    r = await alice.get(search, params={"q": "lunch"})
    highlight = r.json()["items"][0]["highlight"]
    assert "&lt;b&gt;<mark>lunch</mark>&lt;/b&gt;" in highlight and "<b>" not in highlight


async def test_ranking_puts_the_best_match_first_and_pages_by_cursor(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    await _post(alice, tid, "a leak")
    await _post(alice, tid, "leak leak leak under the sink, a big leak")
    for i in range(5):
        await _post(alice, tid, f"leak report number {i}")
    search = f"/api/v1/tickets/{tid}/messages/search"
    first = (await alice.get(search, params={"q": "leak", "limit": 3})).json()
    assert first["items"][0]["seq"] == 2
    seen = [m["seq"] for m in first["items"]]
    cursor = first["nextCursor"]
    while cursor:
        page = (await alice.get(search, params={"q": "leak", "limit": 3, "cursor": cursor})).json()
        seen += [m["seq"] for m in page["items"]]
        cursor = page["nextCursor"]
    assert sorted(seen) == [1, 2, 3, 4, 5, 6, 7]
    assert (await alice.get(search, params={"q": "leak", "cursor": "%%%"})).status_code == 400


async def test_user_text_can_never_break_the_query(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    await _post(alice, tid, "100% done: it's a_b test & more!")
    search = f"/api/v1/tickets/{tid}/messages/search"
    for q in [
        "%",
        "_",
        "'",
        '"',
        "&",
        "|",
        "!",
        "(",
        ")",
        ":*",
        "\\",
        "it's",
        "a & b | !c",
        "100%",
        "'; DROP TABLE messages; --",
        "<->",
        "the",
        "::",
        "a:*B",
        "\x00",
        "ü",
        "🎉",
        "x" * 400,
    ]:
        r = await alice.get(search, params={"q": q})
        assert r.status_code in (200, 400, 422), (q, r.text)
        assert r.status_code == 200 or q == "\x00"
    r = await alice.get(search, params={"q": "100%"})
    assert [m["seq"] for m in r.json()["items"]] == [1]
    r = await alice.get(search, params={"q": "done!"})
    assert [m["seq"] for m in r.json()["items"]] == [1]
    r = await alice.get(search, params={"q": "a_b"})  # underscores split words, like the indexed text
    assert r.status_code == 200
    assert (await alice.get(search, params={"q": ""})).status_code == 422


async def test_cross_ticket_search_covers_only_the_callers_tickets(app, as_user):
    await register(app, "bob")
    alice, bob, carol = as_user("alice"), as_user("bob"), as_user("carol")
    shared = (await ticket_with(alice, "bob"))["id"]
    private = (await ticket_with(alice))["id"]
    carols = (await ticket_with(carol))["id"]
    await _post(alice, shared, "boiler pressure is low")
    await _post(alice, private, "boiler quote for alice only")
    await _post(carol, carols, "boiler in carol's flat")

    def tickets_of(r):
        return sorted(m["ticketId"] for m in r.json()["items"])

    assert tickets_of(await bob.get("/api/v1/search/messages", params={"q": "boiler"})) == [shared]
    assert tickets_of(await alice.get("/api/v1/search/messages", params={"q": "boiler"})) == sorted(
        [shared, private]
    )
    assert (
        len(
            (
                await as_user("boss", role="admin").get("/api/v1/search/messages", params={"q": "boiler"})
            ).json()["items"]
        )
        == 3
    )
    r = await bob.get(f"/api/v1/tickets/{carols}/messages/search", params={"q": "boiler"})
    assert r.status_code == 404
    assert (await as_user("nobody").get("/api/v1/search/messages", params={"q": "boiler"})).json() == {
        "items": [],
        "nextCursor": None,
    }


async def test_deleted_messages_are_not_found(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    m = await _post(alice, tid, "secret password 1234")
    await alice.delete(f"/api/v1/tickets/{tid}/messages/{m['id']}")
    r = await alice.get("/api/v1/search/messages", params={"q": "password"})
    assert r.json()["items"] == []
