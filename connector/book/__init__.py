"""Client-side L2 order books and the keeper that runs each book's sync state."""

from connector.book.keeper import BookKeeper, KeeperResult, KeeperStatistics
from connector.book.orderbook import ENGINE, OrderBook

__all__ = [
    "ENGINE",
    "BookKeeper",
    "KeeperResult",
    "KeeperStatistics",
    "OrderBook",
]
