"""What an abandoned run's row says it did (the pure decision; the kill -9 end-to-end test
in test_e2e_processes checks the counts against what really committed)."""

from __future__ import annotations

from data_nexus.sync.runs import ABANDONED_MESSAGE, abandoned_figures


def test_the_assets_it_committed_are_counted() -> None:
    assert abandoned_figures(7, overlapped=False) == (
        7,
        f"{ABANDONED_MESSAGE}; 7 asset(s) had committed (from their last sync times), "
        "rows written unknown",
    )


def test_an_overlapped_window_says_unknown_not_zero() -> None:
    """Another run synced in the same window: the count cannot be attributed, say so."""
    count, message = abandoned_figures(7, overlapped=True)
    assert message == (
        f"{ABANDONED_MESSAGE}; assets synced unknown (another run overlapped it), "
        "rows written unknown"
    )
    assert count == 0  # the column holds a number; the message is what tells the truth
