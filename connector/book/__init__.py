"""Client-side L2 order books and the keeper that runs each book's sync state."""

from connector.book.keeper import BookKeeper, KeeperAction, KeeperResult, KeeperStatistics
from connector.book.orderbook import ENGINE, OrderBook

__all__ = [
    "ENGINE",
    "BookKeeper",
    "KeeperAction",
    "KeeperResult",
    "KeeperStatistics",
    "OrderBook",
]
