"""Catalogue, reference lists and the demo generator: plain functions over a SQLAlchemy session."""
