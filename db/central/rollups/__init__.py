"""The fold queue: uploads queue their ranges, workers fold them into the energy summary; the old rollup tables."""
