"""Client-side L2 order books and the keeper that runs each book's sync state."""

from connector.book.keeper import BookKeeper, KeeperResult, KeeperStatistics
from connector.book.orderbook import OrderBook, decimal_price, decimal_qty, levels_from_raw

__all__ = [
    "BookKeeper",
    "KeeperResult",
    "KeeperStatistics",
    "OrderBook",
    "decimal_price",
    "decimal_qty",
    "levels_from_raw",
]
