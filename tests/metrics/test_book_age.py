"""The book-age sample of ``VenueFeed``: one frame in ``every`` of those that published
book updates, timed from its ``ts_recv_ns`` to after its publication."""

from __future__ import annotations

import pytest

from connector.model import BookUpdate, Market
from tests.venues.test_feed import Recorder, _bybit_feed, _bybit_frames


@pytest.mark.parametrize("every", [1, 4])
def test_one_frame_in_every_with_book_updates_is_timed_from_its_receipt(every: int) -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)
    ages: list[int] = []
    now = [0]
    feed.record_book_age(ages.append, lambda: now[0], every=every)

    with_books = 0
    for record in list(_bybit_frames())[:400]:
        now[0] = record.ts_ns + 7_000  # the "publish time" the feed reads after publishing
        before = len(recorder.published)
        feed.on_frame(record.data, Market(record.market), record.ts_ns)
        with_books += any(isinstance(e, BookUpdate) for _, e in recorder.published[before:])

    assert with_books > 10
    assert [7_000] * -(-with_books // every) == ages


def test_book_age_sampling_refuses_an_interval_below_one() -> None:
    feed = _bybit_feed(Recorder())
    with pytest.raises(ValueError, match="every"):
        feed.record_book_age(lambda _ns: None, lambda: 0, every=0)
