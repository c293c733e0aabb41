"""Helpers shared by the classroom tests."""
