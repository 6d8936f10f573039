from opsconsole.branding import branding_for


def branding(request):
    return {"brand": branding_for(getattr(request, "partner", None))}
