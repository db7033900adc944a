"""The planners' dashboard (a Solara app) and what it computes."""
