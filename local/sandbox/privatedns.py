"""placeholder"""

from .routing import Router

router = Router()
