from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def persona_required(*kinds: str):
    """Pages for one kind of user. The answer does not depend on any object, so a 403 leaks nothing."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            allowed = False
            if "admin" in kinds and user.kind == "admin":
                allowed = True
            if "reviewer" in kinds and user.kind == "reviewer":
                allowed = True
            if "company" in kinds and user.kind == "company" and user.membership is not None:
                allowed = True
            if "enterprise_admin" in kinds and user.kind == "company" and user.membership is not None \
                    and user.membership.role == "admin":
                allowed = True
            if not allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
