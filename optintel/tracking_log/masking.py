"""Contacts as the Tracking Log shows them before anyone confirms access."""


def mask_contact(value, md5):
    """'j***@example.com', '+1******4567'; only the MD5 when the plain value is not kept."""
    if not value:
        return md5
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) <= 6:
        return value[:2] + "*" * (len(value) - 2)
    return value[:2] + "*" * (len(value) - 6) + value[-4:]
