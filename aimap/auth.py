"""Glue between django-axes and our two login forms (allauth's and the admin's)."""


def login_identifier(request, credentials):
    """The identity axes counts failures against: the email typed on our login form
    (allauth passes it as `email`; on success axes passes only the user's username, so
    the posted `login` comes before it) or the username typed in the admin."""
    credentials = credentials or {}
    data = getattr(request, "POST", {}) if request is not None else {}
    value = (
        credentials.get("email")
        or data.get("login")
        or credentials.get("username")
        or data.get("username")
        or ""
    )
    return value.strip().lower()
