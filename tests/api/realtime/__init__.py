"""Tests of api/realtime/ (the tree under tests/ mirrors the code)."""
