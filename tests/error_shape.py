"""The API's one error shape, asserted the same way by every test folder."""


def assert_error(response, status: int, *, fields: tuple[str, ...] = (), code: str | None = None) -> dict:
    """The response is JSON in the API's error shape, and names exactly `fields` when given."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["detail"], str) and body["detail"]
    if code is not None:
        assert body["code"] == code
    if fields:
        assert set(body["fields"]) == set(fields), body
        for problems in body["fields"].values():
            assert problems
            for problem in problems:
                assert set(problem) == {"code", "message"}
                assert problem["message"]
    return body
