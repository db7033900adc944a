"""Output around the simulation: tables, figures and the run report."""
