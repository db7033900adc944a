"""One module per mechanism of DESIGN section 5; each function updates the firm arrays."""
