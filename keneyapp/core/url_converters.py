class ObjectIdConverter:
    """A positive integer id that fits a 64-bit primary key.

    `<int:pk>` would let "99999999999999999999" through to the database, which answers with an
    out-of-range error (a 500); here it simply does not match, so the API answers 404.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
