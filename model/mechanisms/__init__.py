"""One module per mechanism of the monthly step (model/step.py); each function updates the firm arrays."""
