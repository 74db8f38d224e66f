"""Every API blueprint, in the order they appear in the OpenAPI document."""
ALL = []
