"""The data that ship with metaq (runs, features, samples): read them with metaq.datasets."""
