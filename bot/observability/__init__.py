"""What operators see: Prometheus metrics, log lines with request ids, and what the unit of work tells them."""
