"""What every kind of create shares, free of OSC: the table of kinds
(``registry``), idemclient's exceptions (``errors``), client tokens and their
markers (``token``), parameter fingerprints (``fingerprint``), the journal
(``journal``), the run-once flow (``idempotent``), settling races between
hosts (``converge``), the optional cross-host lock (``coordination``),
crash points for tests (``failpoints``) and private files (``keyfile``)."""
