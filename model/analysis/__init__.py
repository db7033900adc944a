"""Analysis around the simulation: exploratory designs, scenario discovery, what it takes."""
