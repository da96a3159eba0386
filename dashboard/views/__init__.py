"""Blueprints of the dashboard."""
