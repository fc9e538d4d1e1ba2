"""Adapters that read CloudTrail records from where they live. See ``audits.sources.base``."""
