from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path

from demarches import installation, invitations, pages
from demarches.proconnect import logout as proconnect_logout
from demarches.proconnect import views as proconnect
from dossiers.operations import views as operations_views
from dossiers.web.views import home, preferences
from hubee_portal import PRODUCT_NAME, second_factor_views

admin.site.site_header = f"{PRODUCT_NAME} — administration"
admin.site.site_title = PRODUCT_NAME
admin.site.index_title = "Configuration"
# The 500 page keeps the environment banner and the footer (issue 21).
handler500 = installation.server_error


def favicon(request):
    # Resolved per request: the static manifest exists only once collectstatic has run.
    return HttpResponseRedirect(static("portal/favicon.svg"))


urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", operations_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on what is not an HTML page (JSON, downloads).
    path("favicon.ico", login_not_required(favicon), name="favicon"),
    path("synchroniser/", home.sync_now, name="sync-now"),
    path("dossiers/", include("dossiers.web.urls")),
    path("mes-alertes/", preferences.preferences, name="preferences"),
    path("connexion/", proconnect.PasswordLoginView.as_view(), name="login"),
    # Ends the ProConnect session too after a ProConnect login (demarches.proconnect.logout).
    path("deconnexion/", login_not_required(proconnect_logout.LogoutView.as_view()), name="logout"),
    # ProConnect (demarches.proconnect): the names under /oidc/ are mozilla-django-oidc's.
    path("connexion/proconnect/", proconnect.LoginView.as_view(), name="proconnect-login"),
    path(
        "connexion/proconnect/renforcer/",
        proconnect.StepUpView.as_view(),
        name="proconnect-step-up",
    ),
    path(
        "connexion/proconnect/refus/<slug:reason>/",
        proconnect.refused,
        name="proconnect-refused",
    ),
    path(
        "connexion/proconnect/deconnecte/",
        proconnect_logout.logged_out,
        name="proconnect-logged-out",
    ),
    path(
        "oidc/callback/",
        proconnect.CallbackView.as_view(),
        name="oidc_authentication_callback",
    ),
    path(
        "oidc/logout/",
        login_not_required(proconnect_logout.LogoutView.as_view()),
        name="oidc_logout",
    ),
    path("connexion/second-facteur/", second_factor_views.verify, name="second-factor-verify"),
    path(
        "connexion/second-facteur/activer/",
        second_factor_views.setup,
        name="second-factor-setup",
    ),
    path(
        "connexion/second-facteur/codes-de-secours/",
        second_factor_views.codes,
        name="second-factor-codes",
    ),
    # Choosing a password: from the invitation e-mail (demarches.invitations) or « Mot de passe
    # oublié ? ». Django's views, French templates in templates/registration/.
    path(
        "mot-de-passe-oublie/",
        invitations.ForgottenPasswordView.as_view(),
        name="password_reset",
    ),
    path(
        "mot-de-passe-oublie/envoye/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/<uidb64>/<token>/",
        invitations.ChoosePasswordView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/choisi/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "admin/etat/",
        admin.site.admin_view(operations_views.operations),
        name="operations",
    ),
    path("admin/", admin.site.urls),
    # Published pages, reachable without login from every page's footer (issue 21).
    path("accessibilite/", pages.published, {"slug": "accessibilite"}, name="accessibility"),
    path("mentions-legales/", pages.published, {"slug": "mentions-legales"}, name="legal"),
    path(
        "donnees-personnelles/", pages.published, {"slug": "donnees-personnelles"}, name="privacy"
    ),
    path("plan-du-site/", pages.sitemap, name="sitemap"),
    path("logo/<str:version>/", installation.logo_view, name="portal-logo"),
]

if settings.HUBEE_SANDBOX:
    urlpatterns.append(path("sandbox/", include("hubee_portal.sandbox.urls")))
