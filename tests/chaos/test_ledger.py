"""The chaos ledger's accounting on synthetic runs."""

from __future__ import annotations

from tools.chaos.ledger import Confession, Ledger, Offered


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
