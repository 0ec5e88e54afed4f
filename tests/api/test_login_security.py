"""Login that resists guessing (throttle, lock, one login per document) and sessions that end, over real HTTP."""

import asyncio
import re

import httpx
import pytest

from api.login_guard import LoginGuard, Policy
from tests.api.conftest import PASSWORD, new_user

LOGIN = (
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename "
    "... on LoginSuccess { token } ... on LoginFailed { reason retryAfterSeconds } } }"
)
THROTTLE_ENV = {
    "LOGIN_FREE_FAILURES": "2",
    "LOGIN_LOCK_FAILURES": "3",
    "LOGIN_ADDRESS_FREE_FAILURES": "4",
    "LOGIN_ADDRESS_LOCK_FAILURES": "5",
    "LOGIN_LOCK_MINUTES": "10",
    # the test plays several clients through X-Forwarded-For from the loopback "proxy"
    "TRUSTED_PROXIES": "127.0.0.1/32",
    "RATE_LIMIT_PER_MINUTE": "100000",
}


@pytest.fixture(scope="module")
def guarded(central_pg_url, tmp_path_factory):
    """A central server with tiny login limits that believes X-Forwarded-For from loopback."""
    from tests.support.central_server import CentralServer

    log = tmp_path_factory.mktemp("login") / "central.log"
    with CentralServer(central_pg_url, env=THROTTLE_ENV, log_path=log, args=["--no-migrate"]) as server:
        yield server


def post(server, query: str, *, address: str = "198.51.100.1", token: str | None = None, **variables):
    """One GraphQL POST as a client at address; the httpx response."""
    headers = {"X-Forwarded-For": address}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(server.url, json={"query": query, "variables": variables}, headers=headers, timeout=30)


def login(server, email: str, password: str, address: str = "198.51.100.1") -> dict:
    """The login union's fields."""
    return post(server, LOGIN, address=address, e=email, p=password).json()["data"]["login"]


def metric(server, name: str, label: str) -> float:
    """A counter's value from /metrics (0 when absent)."""
    text = httpx.get(server.base_url + "/metrics", timeout=10).text
    found = re.search(rf"^{name}_total\{{{label}\}} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_wrong_passwords_lock_the_account_even_for_the_right_one(guarded, central_pg_url):
    email = asyncio.run(new_user(central_pg_url))
    locks_before = metric(guarded, "meterit_login_locks", 'scope="account"')
    for _ in range(3):
        assert login(guarded, email, "wrong password", "198.51.100.10")["reason"] == "wrong email or password"
    refused = login(guarded, email, PASSWORD, "198.51.100.11")  # right password, other address: still locked
    assert refused["__typename"] == "LoginFailed"
    assert refused["reason"].startswith("too many failed logins")
    assert 500 < refused["retryAfterSeconds"] <= 600
    assert metric(guarded, "meterit_login_locks", 'scope="account"') == locks_before + 1
    assert metric(guarded, "meterit_login_attempts", 'result="throttled"') >= 1
    assert "login locked for account " + email in guarded.log_path.read_text()


def test_unknown_accounts_are_throttled_like_known_ones(guarded):
    for _ in range(3):
        login(guarded, "nobody@example.com", "guess", "198.51.100.20")
    assert login(guarded, "nobody@example.com", "guess", "198.51.100.21")["reason"].startswith("too many")


def test_one_address_guessing_many_accounts_is_locked_but_not_others(guarded, central_pg_url):
    email = asyncio.run(new_user(central_pg_url))
    for n in range(5):
        login(guarded, f"victim{n}@example.com", "guess", "198.51.100.30")
    from_attacker = login(guarded, email, PASSWORD, "198.51.100.30")
    assert from_attacker["reason"].startswith("too many failed logins")
    assert login(guarded, email, PASSWORD, "198.51.100.31")["__typename"] == "LoginSuccess"
    assert metric(guarded, "meterit_login_locks", 'scope="address"') >= 1


def test_a_success_clears_the_account_failures(guarded, central_pg_url):
    email = asyncio.run(new_user(central_pg_url))
    for _ in range(2):
        login(guarded, email, "wrong password", "198.51.100.40")
    assert login(guarded, email, PASSWORD, "198.51.100.40")["__typename"] == "LoginSuccess"
    for _ in range(2):
        assert login(guarded, email, "wrong password", "198.51.100.40")["reason"] == "wrong email or password"


def test_a_document_may_hold_only_one_login(guarded, central_pg_url):
    email = asyncio.run(new_user(central_pg_url))
    fields = " ".join(
        f'a{n}: login(email: "{email}", password: "guess{n}") {{ __typename }}' for n in range(30)
    )
    answer = post(guarded, "mutation { " + fields + " }", address="198.51.100.50").json()
    assert answer.get("data") is None
    assert "at most 1 login field per document" in answer["errors"][0]["message"]
    # nothing was tried: the account is not one failure closer to its lock
    assert login(guarded, email, PASSWORD, "198.51.100.50")["__typename"] == "LoginSuccess"


ME = "{ me { email } }"
CHANGE = "mutation($o: String!, $n: String!) { changePassword(oldPassword: $o, newPassword: $n) { token } }"


def test_password_change_reset_and_logout_end_sessions(guarded, central_pg_url):
    email = asyncio.run(new_user(central_pg_url))
    admin = asyncio.run(new_user(central_pg_url, "admin"))
    address = "198.51.100.60"
    first = login(guarded, email, PASSWORD, address)["token"]
    second = login(guarded, email, PASSWORD, address)["token"]
    assert post(guarded, ME, token=first).json()["data"]["me"]["email"] == email

    wrong = post(guarded, CHANGE, token=first, o="not the password", n="a new long password").json()
    assert "the current password is wrong" in wrong["errors"][0]["message"]
    assert post(guarded, CHANGE, token=first, o=PASSWORD, n="short").json()["errors"]
    changed = post(guarded, CHANGE, token=first, o=PASSWORD, n="a new long password").json()
    third = changed["data"]["changePassword"]["token"]
    for ended in (first, second):
        refused = post(guarded, ME, token=ended)
        assert refused.status_code == 401 and "session ended" in refused.text
    assert post(guarded, ME, token=third).json()["data"]["me"]["email"] == email
    assert login(guarded, email, PASSWORD, address)["__typename"] == "LoginFailed"

    admin_token = login(guarded, admin, PASSWORD, address)["token"]
    reset = post(
        guarded,
        "mutation($id: ID!, $p: String!) { resetPassword(id: $id, newPassword: $p) { email } }",
        token=admin_token,
        id=str(user_id(guarded, admin_token, email)),
        p="reset by the admin",
    ).json()
    assert reset["data"]["resetPassword"]["email"] == email
    assert post(guarded, ME, token=third).status_code == 401
    fourth = login(guarded, email, "reset by the admin", address)["token"]
    viewer_reset = post(
        guarded,
        "mutation($id: ID!, $p: String!) { resetPassword(id: $id, newPassword: $p) { email } }",
        token=fourth,
        id="1",
        p="not allowed here",
    ).json()
    assert "admin role required" in viewer_reset["errors"][0]["message"]

    assert post(guarded, "mutation { logout }", token=fourth).json()["data"]["logout"] is True
    assert post(guarded, ME, token=fourth).status_code == 401


def user_id(server, admin_token: str, email: str) -> int:
    """The id of a user, as an admin sees it."""
    users = post(server, "{ users { id email } }", token=admin_token).json()["data"]["users"]
    return next(int(u["id"]) for u in users if u["email"] == email)


def test_delays_grow_then_lock_and_expire():
    now = [1000.0]
    guard = LoginGuard(Policy(2, 6, 600.0), Policy(100, 200, 600.0), monotonic=lambda: now[0])
    waits = []
    for _ in range(6):
        assert guard.wait_seconds("a@x", "ip") == 0
        guard.attempt("a@x", "ip")
        waits.append(guard.wait_seconds("a@x", "ip"))
        now[0] += waits[-1]
    assert waits == [0, 0, 1, 2, 4, 600]
    now[0] += 601
    assert guard.wait_seconds("a@x", "ip") == 0


def test_a_stolen_token_cannot_guess_the_old_password(guarded, central_pg_url):
    email = asyncio.run(new_user(central_pg_url))
    token = login(guarded, email, PASSWORD, "198.51.100.70")["token"]
    for n in range(3):
        wrong = post(
            guarded, CHANGE, address="198.51.100.71", token=token, o=f"guess {n}", n="a new long password"
        )
        assert "the current password is wrong" in wrong.json()["errors"][0]["message"]
    locked = post(guarded, CHANGE, address="198.51.100.72", token=token, o=PASSWORD, n="a new long password")
    assert "too many failed logins" in locked.json()["errors"][0]["message"]
    assert login(guarded, email, PASSWORD, "198.51.100.73")["reason"].startswith("too many failed logins")


def test_two_workers_share_the_failed_login_count(two_workers, central_pg_url):
    email = asyncio.run(new_user(central_pg_url))
    for _ in range(10):  # fresh connections: the attempts land on both workers
        answer = login(two_workers, email, "wrong password", "198.51.100.70")
        assert answer["reason"] == "wrong email or password"
    # per-worker counts would have let the right password in (each worker saw fewer than 10 failures)
    refused = login(two_workers, email, PASSWORD, "198.51.100.71")
    assert refused["reason"].startswith("too many failed logins"), refused
