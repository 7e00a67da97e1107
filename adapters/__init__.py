"""The platform layer: what the pure core (``kubelink/``) must not do — read settings, build SDK clients,
translate SDK errors, keep records in Table storage, take leases on shared resources, talk to the Durable client.

Imports the pure core and the SDKs (lazily); never ``activities/``, ``orchestrators/`` or ``api/``.
"""
