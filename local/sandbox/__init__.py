"""The Azure sandbox: an HTTPS server on loopback that speaks ARM with real semantics (see README.md)."""

from .cloud import Settings
from .server import SandboxServer

__all__ = ["SandboxServer", "Settings"]
