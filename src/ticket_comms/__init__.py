"""ticket-comms: ticket chat and notifications."""

from ticket_comms import lazy_packages

# Before any of our modules imports socketio (lazy_packages.py says why).
lazy_packages.install()
