"""Classroom wargame: teams play some actors, the model plays the rest."""
