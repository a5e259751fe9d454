"""wormsign: a supply-chain integrity gate for Python ML environments."""

__version__ = "0.1.0"

__all__ = ["__version__"]
