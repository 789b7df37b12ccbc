"""`python -m ticket_comms.migrations`: what `serve` runs in a child process on start."""

import os
import sys

from ticket_comms import migrations
from ticket_comms.observability import configure_logging

configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
url = os.environ.get(migrations.URL_VARIABLE)
if not url:
    sys.exit(f"{migrations.URL_VARIABLE} is not set")
migrations.upgrade(url)
