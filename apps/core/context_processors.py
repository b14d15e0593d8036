from django.conf import settings


def portal(request):
    """Navigation needs the persona; the templates never query the database for it themselves."""
    user = getattr(request, "user", None)
    persona = getattr(user, "persona", None) if user is not None and user.is_authenticated else None
    return {"persona": persona, "PORTAL_NAME_EN": "batterytrace", "DEBUG": settings.DEBUG}
