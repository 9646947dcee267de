"""The claim lock against the sandbox: exactly one winner, leases, takeover, fencing, and the attempt log."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from ccc.client import RepoClient
from ccc.errors import LeaseLost, OutcomeUnknown
from ccc.protocol.claims import MAX_MARGIN, Claim, ClaimKind, ClaimRecord, ClaimStore, lease_margin
from conftest import repo_client

LEASE = timedelta(minutes=10)
START = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand, so lease expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def make_client(sandbox) -> RepoClient:
    return repo_client(sandbox, "github-actions[bot]")


class WithoutEmptyTree:
    """The sandbox as a GitHub that does not know git's empty tree, whatever other faults a test sets."""

    RULE = {"kind": "empty_tree_unknown"}

    def __init__(self, box):
        self._box = box

    def __getattr__(self, name):
        return getattr(self._box, name)

    def faults(self, rules: list[dict], seed: int = 0) -> dict:
        return self._box.faults([*rules, self.RULE], seed)

    def clear_faults(self) -> dict:
        return self._box.faults([self.RULE])


@pytest.fixture(params=["empty-tree-known", "empty-tree-unknown"])
def sandbox(request, sandbox):
    """Every claim test runs twice: GitHub knows the empty tree, and GitHub refuses it."""
    if request.param == "empty-tree-known":
        return sandbox
    sandbox.faults([WithoutEmptyTree.RULE])
    return WithoutEmptyTree(sandbox)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(sandbox, clock) -> ClaimStore:
    return ClaimStore(make_client(sandbox), clock=clock)


def claim(store: ClaimStore, issue: int = 7, worker: str = "cc01") -> Claim | None:
    return store.claim(issue, worker=worker, run_id="1", run_url="http://runs/1", lease=LEASE)


# -- records (no server) -------------------------------------------------------------------------


def test_record_round_trips_through_a_commit_message():
    record = ClaimRecord(
        kind=ClaimKind.COMPLETE,
        issue=3,
        worker="cc02",
        run_id="99",
        run_url="http://runs/99",
        attempt=2,
        lease_expires_at=START + LEASE,
        nonce="abc",
        at=START,
        pr="http://pulls/5",
    )
    message = record.to_message()
    assert message.startswith("ccc complete #3 by cc02 (attempt 2)\n\n{")
    assert ClaimRecord.from_message(message) == record


def test_a_foreign_commit_message_is_not_a_record():
    assert ClaimRecord.from_message("Initial commit") is None
    assert ClaimRecord.from_message('x\n\n{"kind": "steal"}') is None


def test_expiry_and_freedom_follow_the_kind_and_the_lease():
    held = ClaimRecord(ClaimKind.RENEW, 1, "cc01", "", "", 1, START + LEASE, "n", START)
    assert not held.is_free(START)
    assert held.is_expired(START + LEASE) and held.is_free(START + LEASE)
    assert held.follow(ClaimKind.RELEASE, at=START, lease_expires_at=START).is_free(START)
    done = held.follow(ClaimKind.COMPLETE, at=START, lease_expires_at=START)
    assert not done.is_free(START + 2 * LEASE) and done.nonce != held.nonce


# -- the lock (sandbox) --------------------------------------------------------------------------


def test_first_claim_creates_the_ref_in_two_requests(sandbox, store):
    won = claim(store)
    assert won is not None and won.record.kind is ClaimKind.CLAIM and won.record.attempt == 1
    assert won.ref == "refs/ccc/claims/7"
    expected = {"create_commit": 1, "create_ref": 1}
    if isinstance(sandbox, WithoutEmptyTree):  # the empty tree refused once, then the fixed tree made once
        expected.update(create_commit=2, create_tree=1)
    assert store.client.counter.by_operation() == expected
    assert store.read(7) == won.record
    steady = store.client.counter.snapshot()["total"]
    claim(store, issue=8)
    assert store.client.counter.snapshot()["total"] - steady == 2  # the fixed tree is made once, not per claim


def test_a_held_claim_cannot_be_taken(store):
    assert claim(store, worker="cc01") is not None
    assert claim(store, worker="cc02") is None
    assert [r.worker for r in store.history(7)] == ["cc01"]


def test_racing_threads_produce_exactly_one_winner(sandbox, clock):
    stores = [ClaimStore(make_client(sandbox), clock=clock) for _ in range(12)]
    results: list[Claim | None] = [None] * len(stores)
    barrier = threading.Barrier(len(stores))

    def race(i: int) -> None:
        barrier.wait()
        results[i] = claim(stores[i], worker=f"cc{i:02d}")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert stores[0].read(7) == winners[0].record


def test_an_ambiguous_create_is_read_back_and_still_wins_once(sandbox, store):
    sandbox.faults([{"kind": "commit_then_fail", "route": "/repos/{owner}/{repo}/git/refs", "methods": ["POST"]}])
    won = claim(store)
    assert won is not None
    assert store.read(7) == won.record
    assert claim(store, worker="cc02") is None


def test_renewal_extends_the_lease_and_keeps_the_attempt(store, clock):
    won = claim(store)
    clock.advance(LEASE / 2)
    renewed = store.renew(won, LEASE)
    assert renewed.record.kind is ClaimKind.RENEW and renewed.record.attempt == 1
    assert renewed.record.lease_expires_at == clock.now + LEASE
    clock.advance(LEASE * 0.9)  # past the first lease, within the renewed one
    assert claim(store, worker="cc02") is None
    assert store.read(7).nonce == renewed.record.nonce


def test_expired_lease_is_taken_over_as_the_next_attempt(store, clock):
    claim(store, worker="cc01")
    clock.advance(LEASE + MAX_MARGIN)
    taken = claim(store, worker="cc02")
    assert taken is not None and taken.record.kind is ClaimKind.TAKEOVER
    assert taken.record.attempt == 2 and taken.record.worker == "cc02"
    assert [(r.kind, r.worker) for r in store.history(7)] == [(ClaimKind.CLAIM, "cc01"), (ClaimKind.TAKEOVER, "cc02")]


def test_stalled_holder_is_fenced_after_a_takeover(store, clock):
    stalled = claim(store, worker="cc01")
    clock.advance(LEASE + MAX_MARGIN)
    assert claim(store, worker="cc02") is not None
    with pytest.raises(LeaseLost):
        store.renew(stalled, LEASE)
    with pytest.raises(LeaseLost):
        store.complete(stalled, pr_url="http://pulls/1")
    assert store.read(7).worker == "cc02"


def test_two_takers_of_one_expired_lease_cannot_both_win(sandbox, clock):
    first, second = (ClaimStore(make_client(sandbox), clock=clock) for _ in range(2))
    claim(first, worker="cc01")
    clock.advance(LEASE * 2)
    head = first._head(7)
    a = first._advance(head, head.record.follow(ClaimKind.TAKEOVER, at=clock.now, lease_expires_at=clock.now + LEASE))
    b = second._advance(head, head.record.follow(ClaimKind.TAKEOVER, at=clock.now, lease_expires_at=clock.now + LEASE))
    assert a is not None and b is None


def test_release_frees_the_task_and_counts_the_attempt(store):
    won = claim(store, worker="cc01")
    released = store.release(won, "agent exited 1")
    assert released.record.reason == "agent exited 1"
    retry = claim(store, worker="cc02")
    assert retry is not None and retry.record.attempt == 2


def test_no_takeover_once_attempts_are_used_up(store):
    held = claim(store, worker="cc01")
    for worker in ("cc02", "cc03"):
        store.release(held, "failed")
        held = claim(store, worker=worker)
    assert held.record.attempt == 3 and store.attempts_left(held.record) == 0
    store.release(held, "failed")
    assert claim(store, worker="cc04") is None


def test_completed_and_failed_claims_are_final(store, clock):
    store.complete(claim(store, issue=1), pr_url="http://pulls/9")
    store.fail(claim(store, issue=2), "out of attempts")
    clock.advance(LEASE * 10)
    assert claim(store, issue=1, worker="cc02") is None and claim(store, issue=2, worker="cc02") is None
    assert store.read(1).pr == "http://pulls/9" and store.read(2).kind is ClaimKind.FAIL


def test_reaper_takes_over_only_expired_leases_without_spending_an_attempt(store, clock):
    claim(store, worker="cc01")
    assert store.take_over_expired(7, by="manager") is None
    clock.advance(LEASE * 2)
    reaped = store.take_over_expired(7, by="manager")
    assert reaped is not None and reaped.record.worker == "manager" and reaped.record.attempt == 1
    store.release(reaped, "lease expired")
    assert claim(store, worker="cc02").record.attempt == 2


def test_read_of_an_unclaimed_task_is_none(store):
    assert store.read(404) is None
    assert store.history(404) == []


def test_a_renewal_that_keeps_failing_unapplied_is_an_outage_not_a_lost_lease(sandbox, store):
    won = claim(store)
    sandbox.faults(
        [{"kind": "status", "status": 502, "route": "/repos/{owner}/{repo}/git/refs/{ref}", "methods": ["PATCH"]}]
    )
    with pytest.raises(OutcomeUnknown):
        store.renew(won, LEASE)
    sandbox.clear_faults()
    assert store.read(7).nonce == won.record.nonce  # still ours: the next heartbeat may renew it
    assert store.renew(won, LEASE).record.kind is ClaimKind.RENEW


def test_an_unapplied_failure_of_a_first_claim_is_tried_again(sandbox, store):
    sandbox.faults(
        [{"kind": "status", "status": 502, "route": "/repos/{owner}/{repo}/git/refs", "methods": ["POST"], "count": 1}]
    )
    assert claim(store) is not None


def test_a_lease_is_taken_over_only_a_margin_after_it_ran_out(store, clock):
    claim(store, worker="cc01")
    clock.advance(LEASE + store.margin / 2)
    assert claim(store, worker="cc02") is None
    clock.advance(store.margin / 2)
    assert claim(store, worker="cc02").record.worker == "cc02"


def test_the_holder_stops_a_margin_before_its_lease_ends(store, clock):
    held = claim(store)
    assert not store.must_stop(held.record)
    clock.advance(LEASE - store.margin)
    assert store.must_stop(held.record)
    assert not store.must_stop(store.release(held, "done").record)  # no lease is held any more


def test_leases_are_stamped_with_githubs_time_by_default(sandbox):
    store = ClaimStore(make_client(sandbox))
    won = claim(store)
    assert store.client.counter.by_operation()["server_time"] == 1  # one free request, before the first stamp
    github_now = store.client.server_time()
    assert abs(won.record.at - github_now) < timedelta(seconds=5)
    assert store.client.counter.by_operation()["server_time"] == 1  # later answers keep the clock: free


def test_margins_are_a_tenth_of_short_leases_and_at_most_ten_seconds():
    assert lease_margin(timedelta(seconds=10)) == timedelta(seconds=1)
    assert lease_margin(timedelta(minutes=10)) == MAX_MARGIN == timedelta(seconds=10)


# -- lagging replicas (the sandbox's lag model: every replicated read is up to 30 s stale) -----------
# GitHub's reads may trail its writes: https://github.com/PyGithub/PyGithub/issues/2759 (a created ref
# answers 404 until it has propagated). Outcomes come from the primary's answers to writes instead.


def test_a_create_applied_but_answered_502_wins_although_reads_lag(sandbox, store):
    sandbox.lag(30)
    sandbox.faults([{"kind": "commit_then_fail", "route": "/repos/{owner}/{repo}/git/refs", "methods": ["POST"]}])
    won = claim(store)
    assert won is not None and won.record.attempt == 1
    sandbox.clear_faults()
    assert claim(store, worker="cc02") is None  # held: a stale 404 is not believed to mean free
    sandbox.lag(0)
    assert store.read(7).nonce == won.record.nonce


def test_a_holder_taken_over_learns_it_lost_although_reads_lag(sandbox, store, clock):
    stalled = claim(store, worker="cc01")
    clock.advance(LEASE + MAX_MARGIN)
    successor = claim(store, worker="cc02")
    sandbox.lag(30)  # a read would still show the stalled holder's claim
    with pytest.raises(LeaseLost):
        store.renew(stalled, LEASE)
    with pytest.raises(LeaseLost):
        store.complete(stalled, pr_url="u")
    sandbox.lag(0)
    assert store.read(7).nonce == successor.record.nonce


def test_githubs_transient_ref_refusals_are_tried_again_not_taken_as_lost(sandbox, store):
    sandbox.faults([{"kind": "ref_update_failed", "count": 1}, {"kind": "ref_contention", "count": 1}])
    won = claim(store)
    assert won is not None
    assert store.renew(won, LEASE).record.kind is ClaimKind.RENEW
    assert store.client.counter.by_operation()["create_ref"] == 2
    assert store.client.counter.by_operation()["update_ref"] == 3  # the settling fast-forward, then 422 + 200
