"""Metrics: latency histograms, the Prometheus text exposition of ``Connector.statistics()``
and the service that serves it (docs/metrics.md)."""
