"""`meterit soak`: a fault soak that proves nothing is lost (see docs/reliability.md)."""
