"""Template library « operations » (settings.TEMPLATES): the admin index's health banner."""

from django import template

from dossiers.operations import health

register = template.Library()


@register.inclusion_tag("admin/_health_banner.html")
def health_banner():
    """On the admin's first page: healthy or not, and the way to the « État du portail » page."""
    report = health.check()
    return {"healthy": report.healthy, "count": len(report.problems)}
