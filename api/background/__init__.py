"""Background work of every API process: site monitoring and the fold worker (the energy summary)."""
