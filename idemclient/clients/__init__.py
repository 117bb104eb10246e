"""Every HTTP call idemclient makes itself: one module per service, and
``errors`` where the cloud's answers are translated, once."""
