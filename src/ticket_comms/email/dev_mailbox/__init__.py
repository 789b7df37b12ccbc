"""The dev mailbox (SMTP_URL unset): sink.py catches mail, store.py keeps it, router.py shows it."""
