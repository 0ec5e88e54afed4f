"""Background work of every API process: site monitoring and the rollup worker."""
