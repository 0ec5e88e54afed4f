"""BACnet collection: read meters (RPM with ReadProperty fallback), turn answers into outbox readings."""
