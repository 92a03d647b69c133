from django.urls import path

from . import views

# Included under /sandbox/proconnect/api/v2/ in the sandbox's namespace.
urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="proconnect-discovery"),
    path("authorize", views.authorize, name="proconnect-authorize"),
    path("token", views.token, name="proconnect-token"),
    path("userinfo", views.userinfo, name="proconnect-userinfo"),
    path("jwks", views.jwks, name="proconnect-jwks"),
    path("session/end", views.end_session, name="proconnect-end-session"),
]
