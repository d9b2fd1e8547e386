"""bench/encryption_cost.py: what it measures is what it says (few rounds: the shape, not the figures)."""

import pytest

from bench import encryption_cost


def test_value_costs_cover_each_text_and_grow_with_its_length():
    figures = encryption_cost.value_costs(rounds=50)

    assert set(figures) == set(encryption_cost.TEXTS)
    for label, row in figures.items():
        assert row["chars"] == len(encryption_cost.TEXTS[label])
        assert row["stored_chars"] > row["chars"]  # ciphertext, nonce, tag and prefix
        assert row["encrypt_us"] > 0 and row["decrypt_us"] > 0


@pytest.mark.django_db
def test_request_costs_compare_an_encrypted_clinic_with_a_clear_one(settings, monkeypatch):
    monkeypatch.setattr(encryption_cost, "ROWS", 3)

    figures = encryption_cost.request_costs(rounds=2)

    assert figures["failures"] == 0
    assert set(figures["endpoints"]) == {key for key, _ in encryption_cost.ENDPOINTS}
    for row in figures["endpoints"].values():
        assert row["on_ms"] > 0 and row["off_ms"] > 0
    lines = encryption_cost.markdown_rows(
        {"values": encryption_cost.value_costs(rounds=10), "requests": figures}
    )
    assert any(line.startswith("| GET /messages (50 rows) |") for line in lines)
