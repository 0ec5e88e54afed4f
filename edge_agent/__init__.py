"""On-site edge agent: BACnet collection, durable outbox, uploader to central, local API."""

__version__ = "0.1.0"
