from django import forms

from demarches.models import Demarche

SELF_HABILITATION = (
    "Vous ne pouvez pas vous habiliter vous-même sur une démarche : un autre administrateur "
    "ou un superutilisateur le fait pour vous, s'il le faut."
)


class DemarcheAdminForm(forms.ModelForm):
    """The client secret is write-only: never rendered back, blank on edit keeps it.

    `editor` (set by the admin) is the user saving the form: short of a superuser, nobody adds
    themselves to the habilitations, which would open the démarche's dossiers to them.
    """

    editor = None

    client_secret = forms.CharField(
        label="secret client (client secret)",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Copié depuis le portail HubEE. Il n'est plus jamais affiché une fois "
        "enregistré ; laissez vide pour conserver le secret actuel.",
    )

    class Meta:
        model = Demarche
        fields = [
            "name",
            "process_code",
            "organisation",
            "connection",
            "enabled",
            "client_id",
            "download_folder",
            "automatic_status",
            "allow_done",
            "allow_refused",
            "automatic_final_status",
            "allows_add_awaiting",
            "allows_messages",
            "allows_document_return",
            "retention_months",
            "agents",
            "sensitive",
        ]

    def clean_agents(self):
        agents = self.cleaned_data["agents"]
        editor = self.editor
        if editor is None or editor.is_superuser or editor.pk not in {a.pk for a in agents}:
            return agents
        if self.instance.pk and self.instance.agents.filter(pk=editor.pk).exists():
            return agents  # keeping one's own habilitation
        raise forms.ValidationError(SELF_HABILITATION, code="self_habilitation")

    def clean(self):
        cleaned = super().clean()
        secret = cleaned.get("client_secret")
        if secret:
            self.instance.client_secret = secret
        elif not self.instance.client_secret_encrypted:
            self.add_error("client_secret", "Le secret client est obligatoire.")
        return cleaned
