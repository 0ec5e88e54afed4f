"""Raw readings storage: partitions, retention and the readings query."""
