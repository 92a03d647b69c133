"""ProConnect's settings as a production install reads them, in real processes."""

from tests.portal.test_settings import production_env, run

PROCONNECT = {
    "PROCONNECT_URL": "https://auth.agentconnect.gouv.fr/api/v2",
    "PROCONNECT_CLIENT_ID": "id-de-production",
    "PROCONNECT_CLIENT_SECRET": "secret-de-production",
}


def test_production_has_no_proconnect_unless_configured(tmp_path):
    code = "from django.conf import settings; print(settings.PROCONNECT_ENABLED)"
    assert run(code, production_env(tmp_path)).stdout.strip() == "False"
    configured = run(code, production_env(tmp_path, **PROCONNECT))
    assert configured.stdout.strip() == "True", configured.stderr


def test_a_half_configured_proconnect_stops_the_start(tmp_path):
    env = production_env(tmp_path, PROCONNECT_URL=PROCONNECT["PROCONNECT_URL"])
    result = run(["manage.py", "check"], env, script=False)
    assert result.returncode != 0
    assert "PROCONNECT_URL, PROCONNECT_CLIENT_ID et PROCONNECT_CLIENT_SECRET" in result.stderr


def test_check_deploy_fails_on_an_http_proconnect(tmp_path):
    env = production_env(tmp_path, **{**PROCONNECT, "PROCONNECT_URL": "http://127.0.0.1:8000/x"})
    result = run(["manage.py", "check", "--deploy"], env, script=False)
    assert result.returncode != 0
    assert "hubee_portal.E020" in result.stdout + result.stderr
    clean = run(
        ["manage.py", "check", "--deploy"], production_env(tmp_path, **PROCONNECT), script=False
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
