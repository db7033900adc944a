"""Calibration: observations mapped to statistics, ABC-SMC estimation, fit and recovery checks."""
