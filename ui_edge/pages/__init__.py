"""Pages of the on-site dashboard, one module (and substate) each."""
