import unicodedata


def fold_for_search(text: str) -> str:
    """Lower-case and strip accents ("Éloïse" -> "eloise"), so search ignores both."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def digits_only(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())
