"""The Azure sandbox: an HTTPS server on loopback that speaks ARM with real semantics (see README.md)."""

from .cloud import Settings
from .server import Sandbox

__all__ = ["Sandbox", "Settings"]
