"""Deliveries: handing them to workers, executing them in batches, retrying, reconciling."""
