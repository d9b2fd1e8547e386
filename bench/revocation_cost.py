"""What the revocation check costs a request, measured in-process on the bench's Redis.

Every API request authenticates its bearer token: the signature and expiry (tokens.
read_access_token), the user from the cache (api_users.load_api_user: one Redis version check and
an in-process hit), then the revocation check itself (authentication.authenticate_access_claims:
the credentials fingerprint, the ended logins, the clinic still active). Timed here, interleaved
in the same loop (each in every position in turn) so that the machine's noise falls on every
part alike:

- `decode`: read_access_token alone;
- `load`: decode + load_api_user, what a request cost before revocation existed;
- `full`: decode + authenticate_access_claims (load + the check), what a request costs now.

`check` = full - load is the check's own cost per request. bench/query_counts.py runs this after
its counts (same scratch database, same Redis) and bench/report.py prints it.
"""

import statistics
import time

ROUNDS = 5_000


def _median_us(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e6, 2)


def measure(user, *, rounds: int = ROUNDS) -> dict:
    from keneyapp.accounts import tokens
    from keneyapp.accounts.api_users import load_api_user
    from keneyapp.accounts.authentication import authenticate_access_claims

    token = tokens.issue_access_token(user=user)
    claims = tokens.read_access_token(token)
    if authenticate_access_claims(claims) is None:  # also warms the cached user
        raise SystemExit("revocation cost: a fresh token of the bench user was refused")

    def decode():
        tokens.read_access_token(token)

    def load():
        load_api_user(tokens.read_access_token(token).user_id)

    def full():
        if authenticate_access_claims(tokens.read_access_token(token)) is None:
            raise SystemExit("revocation cost: the token was refused mid-measurement")

    parts = [("decode", decode), ("load", load), ("full", full)]
    samples: dict[str, list[float]] = {name: [] for name, _ in parts}
    clock = time.perf_counter
    for round_number in range(rounds):
        shift = round_number % len(parts)  # each part takes each position in turn: no order bias
        for name, part in parts[shift:] + parts[:shift]:
            started = clock()
            part()
            samples[name].append(clock() - started)
    figures = {f"{name}_us": _median_us(values) for name, values in samples.items()}
    figures["check_us"] = round(figures["full_us"] - figures["load_us"], 2)
    figures["rounds"] = rounds
    return figures


def markdown_rows(figures: dict) -> list[str]:
    return [
        "Bearer authentication per request, in-process on the bench's Redis (medians of "
        f"{figures['rounds']:,} interleaved rounds, bench/revocation_cost.py):",
        "",
        "| Part | µs per request |",
        "|---|---|",
        f"| token signature and expiry (decode) | {figures['decode_us']} |",
        f"| decode + cached user (before revocation) | {figures['load_us']} |",
        f"| decode + cached user + revocation check (now) | {figures['full_us']} |",
        f"| **the revocation check alone** (now - before) | **{figures['check_us']}** |",
    ]
