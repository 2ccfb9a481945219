"""The fitted predictors that ship with metaq: load them with metaq.datasets."""
