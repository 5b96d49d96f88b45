"""The ML Metadata store (being built)."""
