"""bench/revocation_cost.py measures the three parts of bearer authentication and their difference,
and refuses to report figures for a token the API would refuse."""

import pytest

from bench import revocation_cost
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_times_each_part_and_the_check_is_full_less_load(clinic):
    figures = revocation_cost.measure(UserFactory(tenant=clinic), rounds=50)

    assert figures["rounds"] == 50
    assert figures["decode_us"] > 0 and figures["load_us"] > 0 and figures["full_us"] > 0
    assert figures["check_us"] == round(figures["full_us"] - figures["load_us"], 2)
    rows = "\n".join(revocation_cost.markdown_rows(figures))
    assert f"**{figures['check_us']}**" in rows


def test_a_revoked_user_is_never_measured_as_if_accepted(clinic):
    user = UserFactory(tenant=clinic)
    user.is_active = False
    user.save()

    with pytest.raises(SystemExit, match="refused"):
        revocation_cost.measure(user, rounds=5)
