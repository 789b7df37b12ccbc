CONTRACT_PATHS = {
    ("get", "/api/v1/me"),
    ("put", "/api/v1/users/{user_id}"),
    ("post", "/api/v1/tickets"),
    ("get", "/api/v1/tickets"),
    ("get", "/api/v1/tickets/{ticket_id}"),
    ("patch", "/api/v1/tickets/{ticket_id}"),
    ("get", "/api/v1/tickets/{ticket_id}/participants"),
    ("post", "/api/v1/tickets/{ticket_id}/participants"),
    ("delete", "/api/v1/tickets/{ticket_id}/participants/{user_id}"),
    ("patch", "/api/v1/tickets/{ticket_id}/participants/me"),
    ("get", "/api/v1/tickets/{ticket_id}/messages"),
    ("post", "/api/v1/tickets/{ticket_id}/messages"),
    ("patch", "/api/v1/tickets/{ticket_id}/messages/{message_id}"),
    ("delete", "/api/v1/tickets/{ticket_id}/messages/{message_id}"),
    ("put", "/api/v1/tickets/{ticket_id}/messages/{message_id}/reactions/{emoji}"),
    ("post", "/api/v1/tickets/{ticket_id}/read"),
    ("get", "/api/v1/me/unread"),
    ("get", "/api/v1/tickets/{ticket_id}/messages/search"),
    ("get", "/api/v1/search/messages"),
}


async def test_the_openapi_document_describes_the_contract(app, as_user):
    r = await as_user("alice").get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    have = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert CONTRACT_PATHS <= have, CONTRACT_PATHS - have
    message = spec["components"]["schemas"]["MessageOut"]["properties"]
    assert {"seq", "senderId", "clientId", "reactions", "attachment"} <= set(message)
    ticket_list = spec["paths"]["/api/v1/tickets"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ticket_list["schema"]["$ref"].endswith("/TicketPage")
