"""The `meterit` command line and the demo that wires central and edge together."""
