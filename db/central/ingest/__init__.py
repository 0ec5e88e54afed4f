"""Uploads into central: parsing readings, storing batches, binary COPY."""
