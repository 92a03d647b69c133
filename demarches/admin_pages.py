"""Administration of the installation's identity and published pages (issue 21): the
Organisation's logo (PNG or JPEG, re-encoded by demarches.logo) and the texts of the
accessibility statement, legal notice and personal-data notice."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from demarches import logo, pages
from demarches.admin_wording import FrenchWording
from demarches.models import Organisation, PortalPage


class OrganisationForm(forms.ModelForm):
    logo_file = forms.FileField(
        label="Logo",
        required=False,
        help_text="PNG ou JPEG, 2 Mo au plus ; il est réduit à 512 pixels de côté et enregistré "
        "de nouveau par le portail. Il s'affiche en tête de chaque page si le portail ne sert "
        "qu'une organisation.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label="Retirer le logo", required=False)

    class Meta:
        model = Organisation
        fields = ["name", "siret", "code_guichet", "contact", "dpo_contact"]

    def clean_logo_file(self):
        upload = self.cleaned_data.get("logo_file")
        if not upload:
            return None
        # One byte past the cap is enough for reencode to refuse it, in French.
        return logo.reencode(upload.read(logo.MAX_UPLOAD_BYTES + 1))

    def save(self, commit=True):
        organisation = super().save(commit=False)
        new_logo = self.cleaned_data.get("logo_file")
        if new_logo is not None:
            organisation.logo, organisation.logo_type = new_logo.content, new_logo.content_type
        elif self.cleaned_data.get("remove_logo"):
            organisation.logo, organisation.logo_type = None, ""
        if commit:
            organisation.save()
        return organisation


@admin.register(Organisation)
class OrganisationAdmin(FrenchWording, admin.ModelAdmin):
    form = OrganisationForm
    list_display = ["name", "siret", "code_guichet", "has_logo"]
    search_fields = ["name", "siret", "code_guichet"]
    fieldsets = [
        (None, {"fields": ["name", "siret", "code_guichet"]}),
        ("Identité du portail", {"fields": ["logo_file", "remove_logo"]}),
        ("Contacts publiés", {"fields": ["contact", "dpo_contact"]}),
    ]

    # In words, not Django's boolean icon.
    @admin.display(description="logo")
    def has_logo(self, obj: Organisation) -> str:
        return "Oui" if obj.logo_type else "Non"


@admin.register(PortalPage)
class PortalPageAdmin(FrenchWording, admin.ModelAdmin):
    list_display = ["slug", "updated_at"]
    list_filter = ["slug"]

    def get_changeform_initial_data(self, request):
        """« Écrire le texte de cette page »: the draft the portal shows, ready to complete."""
        initial = super().get_changeform_initial_data(request)
        slug = request.GET.get("slug", "")
        if slug in PortalPage.Slug.values:
            initial["text"] = pages.default_text(slug)
        return initial
