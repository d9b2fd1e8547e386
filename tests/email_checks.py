"""What every test of an outgoing email asserts: none of the health fields' values leaves with it."""


def assert_carries_none_of(email, health_values: dict[str, str]) -> None:
    """Neither any value of `health_values` nor its first word is in the email's subject or body."""
    text = f"{email.subject}\n{email.body}".lower()
    for field, value in health_values.items():
        assert value.lower() not in text, field
        assert value.split()[0].lower() not in text, field  # not even its first word
