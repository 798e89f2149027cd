"""The owner API's routers (one per area), included by functions/owner_api/app.py."""
