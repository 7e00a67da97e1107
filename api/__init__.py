"""HTTP triggers (blueprints registered by function_app.py)."""
