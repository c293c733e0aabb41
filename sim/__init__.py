"""Iran crisis wargame: the simulation engine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("iran-crisis-wargame")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
