"""Subcommands of `meterit`, one module each."""
