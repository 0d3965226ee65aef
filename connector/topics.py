"""Topics and patterns of the bus: names, matching, default overflow policies.

Topics are dot-separated tokens, ``{type}.{venue}.{key}``; patterns follow NATS
(``*`` one token, ``>`` as the last token: one or more). Pure functions over
text, shared by the in-process :class:`~connector.bus.Bus` and anything that
bridges topics elsewhere.
"""

from __future__ import annotations

import enum
from collections.abc import Collection

__all__ = [
    "CRITICAL_TYPES",
    "DEFAULT_BUFFER_DROP_OLDEST",
    "DEFAULT_BUFFER_FAIL",
    "DEFAULT_BUFFER_LATEST",
    "MARKET_DATA_TYPES",
    "TOPIC_TYPES",
    "TRADING_TYPES",
    "Overflow",
    "check_published",
    "default_buffer",
    "default_overflow",
    "matches",
    "topic_matches",
    "validate_pattern",
    "validate_topic",
]

#: Topic types (first token) whose subscriptions default to ``drop_oldest``.
MARKET_DATA_TYPES = frozenset(
    {"ticker", "trade", "orderbook", "quote", "consolidated", "connection", "health"}
)
#: Topic types whose subscriptions default to ``fail``: losing one is never silent.
CRITICAL_TYPES = frozenset({"order", "position", "balance", "risk"})
#: Topic types only a program that trades publishes.
TRADING_TYPES = frozenset({"order", "fill", "position", "balance", "risk"})

#: Every topic type the connector publishes.
TOPIC_TYPES = MARKET_DATA_TYPES | TRADING_TYPES
#: Topic types whose second token is a venue (``consolidated`` and ``risk`` have none).
_VENUE_TYPES = TOPIC_TYPES - {"consolidated", "risk"}

#: Default buffer (events) of a ``drop_oldest`` subscription.
DEFAULT_BUFFER_DROP_OLDEST = 1024
#: Default buffer (distinct pending topics) of a ``latest`` subscription.
DEFAULT_BUFFER_LATEST = 1024
#: Default buffer (events) of a ``fail`` subscription: larger, since overflow is fatal.
DEFAULT_BUFFER_FAIL = 4096

_WILDCARDS = ("*", ">")


class Overflow(enum.StrEnum):
    """What a subscription does when its buffer is full and another event arrives."""

    #: Discard the oldest buffered event (counted in ``dropped``).
    DROP_OLDEST = "drop_oldest"
    #: Conflate: keep only the newest event per topic; the bound is on distinct topics.
    LATEST = "latest"
    #: Mark the subscription failed; the next receive raises ``SubscriptionOverflow``.
    FAIL = "fail"


def _check_tokens(text: str, kind: str) -> tuple[str, ...]:
    if not isinstance(text, str) or not text:
        raise ValueError(f"invalid {kind} {text!r}: must be a non-empty string")
    tokens = tuple(text.split("."))
    for token in tokens:
        if not token:
            raise ValueError(f"invalid {kind} {text!r}: empty token (leading, trailing or '..')")
        if any(c.isspace() for c in token):
            raise ValueError(f"invalid {kind} {text!r}: token {token!r} contains whitespace")
    return tokens


def validate_topic(topic: str) -> tuple[str, ...]:
    """Check a topic that will be published and return its tokens.

    Raises:
        ValueError: empty text or token, whitespace, or a wildcard (``*``, ``>``);
            the message names the topic.
    """
    tokens = _check_tokens(topic, "topic")
    for token in tokens:
        if "*" in token or ">" in token:
            raise ValueError(
                f"invalid topic {topic!r}: wildcards ('*', '>') are only allowed in patterns"
            )
    return tokens


def validate_pattern(pattern: str) -> tuple[str, ...]:
    """Check a subscription pattern and return its tokens.

    Raises:
        ValueError: empty text or token, whitespace, a wildcard that is not a
            whole token, or ``>`` anywhere but last; the message names the pattern.
    """
    tokens = _check_tokens(pattern, "pattern")
    last = len(tokens) - 1
    for i, token in enumerate(tokens):
        if token in _WILDCARDS:
            if token == ">" and i != last:
                raise ValueError(f"invalid pattern {pattern!r}: '>' is only allowed as last token")
        elif "*" in token or ">" in token:
            raise ValueError(
                f"invalid pattern {pattern!r}: wildcard inside token {token!r}; "
                "'*' and '>' must be whole tokens"
            )
    return tokens


def check_published(pattern: str, venues: Collection[str]) -> tuple[str, ...]:
    """Check that ``pattern`` can match a topic the connector publishes with ``venues``
    enabled (a typo otherwise waits for ever, silently); return its tokens.

    Raises:
        ValueError: an invalid pattern (:func:`validate_pattern`), a type no topic
            has, or a venue that is not among ``venues``; the message names it.
    """
    tokens = validate_pattern(pattern)
    kind = tokens[0]
    if kind in _WILDCARDS:
        return tokens
    if kind not in TOPIC_TYPES:
        known = ", ".join(sorted(TOPIC_TYPES))
        raise ValueError(f"invalid pattern {pattern!r}: no topic is of type {kind!r} ({known})")
    venue = tokens[1] if kind in _VENUE_TYPES and len(tokens) > 1 else "*"
    if venue not in _WILDCARDS and venue not in venues:
        enabled = ", ".join(sorted(venues)) or "none"
        raise ValueError(
            f"invalid pattern {pattern!r}: venue {venue!r} is not enabled here (venues: {enabled})"
        )
    return tokens


def matches(pattern: tuple[str, ...], topic: tuple[str, ...]) -> bool:
    n = len(pattern)
    if pattern[-1] == ">":
        if len(topic) < n:  # '>' needs at least one token
            return False
        n -= 1
    elif len(topic) != n:
        return False
    for i in range(n):
        p = pattern[i]
        if p != "*" and p != topic[i]:
            return False
    return True


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether ``topic`` matches ``pattern`` (``*`` one token, ``>`` one or more).

    Raises:
        ValueError: the pattern or the topic is invalid.
    """
    return matches(validate_pattern(pattern), validate_topic(topic))


def default_overflow(pattern: str) -> Overflow:
    """The overflow policy a pattern gets when none is given.

    Market data (``ticker``, ``trade``, ``orderbook``, ``quote``,
    ``consolidated``, ``connection``, ``health``) gets ``drop_oldest``.
    ``order``, ``position``, ``balance``, ``risk``, a pattern starting with a
    wildcard (it may match those), and any other type get ``fail``, so that
    nothing is dropped silently unless it is known to be market data.

    Raises:
        ValueError: the pattern is invalid.
    """
    first = validate_pattern(pattern)[0]
    return Overflow.DROP_OLDEST if first in MARKET_DATA_TYPES else Overflow.FAIL


def default_buffer(overflow: Overflow) -> int:
    if overflow is Overflow.FAIL:
        return DEFAULT_BUFFER_FAIL
    if overflow is Overflow.LATEST:
        return DEFAULT_BUFFER_LATEST
    return DEFAULT_BUFFER_DROP_OLDEST
