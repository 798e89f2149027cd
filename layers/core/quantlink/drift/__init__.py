"""Drift monitoring: expected vs reported holdings per terminal and trading day, and the sync repair."""
