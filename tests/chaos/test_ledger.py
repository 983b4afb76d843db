"""The chaos ledger's accounting on synthetic runs."""

from __future__ import annotations

from tools.chaos.ledger import Confession, Ledger, Notice, Offered


def _clean_run() -> Ledger:
    return Ledger(
        offered=[Offered("send", 200), Offered("write", 200), Offered("decide", 200)],
        confessions=[
            Confession(1, 1, "published", "first", 11),
            Confession(1, 2, "pending", "second"),
            Confession(1, 3, "rejected", "third"),
        ],
        posts={1: ["#1\n\nfirst"]},
        cards={1: ["🆕 #1\n\nfirst", "🆕 #2\n\nsecond", "🆕 #3\n\nthird", "note #1"]},
    )


def test_a_clean_run_is_all_completed() -> None:
    accounts = _clean_run().account()
    assert (accounts.offered, accounts.completed) == (3, 3)
    assert accounts.clean and not accounts.pending and not accounts.unrecorded
    assert accounts.lines()[0].startswith("offered 3  completed 3  pending 0  lost 0")


def test_refused_and_still_retried_updates() -> None:
    ledger = _clean_run()
    ledger.offered += [Offered("send", 500), Offered("open", None, pending=True)]
    accounts = ledger.account()
    assert accounts.completed == 3
    assert accounts.lost == ["update send: delivery ended 500"]
    assert accounts.pending == ["update open: still being retried"]
    assert not accounts.clean


def test_duplicated_posts_cards_and_confessions() -> None:
    ledger = _clean_run()
    ledger.posts[1].append("#1\n\nfirst")
    ledger.cards[1].append("🆕 #2\n\nsecond")
    ledger.confessions.append(Confession(1, 4, "rejected", "first"))
    ledger.cards[1].append("🆕 #4\n\nfirst")
    accounts = ledger.account()
    assert sorted(accounts.duplicated) == [
        "2 cards of #2 in 1",
        "2 confessions from one Send in 1",
        "2 posts of #1 in 1",
    ]
    assert not accounts.lost and not accounts.clean


def test_missing_effects_are_lost_unless_on_their_way() -> None:
    ledger = _clean_run()
    ledger.confessions += [
        Confession(1, 5, "published", "fifth", 15),
        Confession(1, 6, "pending", "sixth"),
        Confession(1, 7, "approved", "seventh"),
    ]
    ledger.on_the_way[(1, 7)] = "outbox: retrying"
    accounts = ledger.account()
    assert accounts.lost == [
        "#5 in 1: published without a post",
        "#6 in 1: awaiting a decision without a card",
    ]
    assert accounts.pending == ["#7 in 1: approved, not yet published (outbox: retrying)"]


def test_a_post_whose_id_was_never_recorded_is_reported() -> None:
    ledger = _clean_run()
    ledger.confessions.append(Confession(1, 8, "approved", "eighth"))
    ledger.posts[1].append("#8\n\neighth")
    ledger.cards[1].append("🆕 #8\n\neighth")
    accounts = ledger.account()
    assert accounts.unrecorded == ["#8 in 1"]
    assert accounts.clean  # the member sees the post once; the record is what is off


def test_every_update_id_is_accounted_for_with_its_reason() -> None:
    ledger = _clean_run()
    ledger.offered = [
        Offered("update", 200, update_id=11),
        Offered("update", 502, update_id=12, reason="Wrong response from the webhook: 502"),
        Offered("update", None, pending=True, update_id=13, reason="attempt 3: Read timeout"),
    ]
    accounts = ledger.account()
    assert accounts.completed == 1
    assert accounts.lost == ["update 12 (Wrong response from the webhook: 502): delivery ended 502"]
    assert accounts.pending == ["update 13 (attempt 3: Read timeout): still being retried"]


def test_notices_shown_twice_are_duplicated_dead_ones_lost_queued_ones_pending() -> None:
    ledger = _clean_run()
    ledger.notices = [
        Notice(1, 500, "rejected:1", "Your #1 was rejected", "sent"),
        Notice(1, 500, "comment:9", "New comment on #2", "sent"),
        Notice(1, 500, "comment:10", "New comment on #2", "sent"),
        Notice(1, 501, "approved:3", "#3 is published", "sent"),
        Notice(1, 502, "rejected:4", "Your #4 was rejected", "dead", "Bad Request"),
        Notice(1, 503, "rejected:5", "Your #5 was rejected", "queued", "HTTP 502"),
        Notice(1, 504, "rejected:6", "Your #6 was rejected", "dropped", "blocked"),
    ]
    ledger.private = {
        (1, 500): ["Welcome", "Your #1 was rejected", "New comment on #2", "New comment on #2"],
        (1, 501): ["#3 is published", "#3 is published"],
    }
    accounts = ledger.account()
    assert accounts.duplicated == ["2 notices approved:3"]
    assert accounts.lost == ["notice rejected:4: dead (Bad Request)"]
    assert accounts.pending == ["notice rejected:5: queued (HTTP 502)"]
