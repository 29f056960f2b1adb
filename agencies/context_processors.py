from .roles import Role, user_agency, user_role


def role(request):
    """Exposes the signed-in user's role and agency to every template."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"dispatch_role": user_role(user), "dispatch_agency": user_agency(user), "Role": Role}
