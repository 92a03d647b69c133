from django.urls import path

from dossiers.web.views import actions as views_actions
from dossiers.web.views import bulk as views_bulk
from dossiers.web.views import detail as views_detail
from dossiers.web.views import export as views_export
from dossiers.web.views import files as views_files
from dossiers.web.views import list as views_list
from dossiers.web.views import previews as views_previews
from dossiers.web.views import statistics as views_statistics
from dossiers.web.views import teamwork as views_teamwork

app_name = "dossiers"

urlpatterns = [
    path("", views_list.dossier_list, name="list"),
    path("export.csv", views_export.export_csv, name="export"),
    path("lot/", views_bulk.bulk_confirm, name="bulk"),
    path("lot/resultat/", views_bulk.bulk_result, name="bulk-result"),
    path("statistiques/", views_statistics.statistics_index, name="statistics"),
    path(
        "statistiques/<int:pk>/",
        views_statistics.statistics_demarche,
        name="statistics-demarche",
    ),
    path(
        "statistiques/<int:pk>/statistiques.csv",
        views_statistics.statistics_csv,
        name="statistics-csv",
    ),
    path("<int:pk>/", views_detail.dossier_detail, name="detail"),
    path("<int:pk>/suivi/", views_detail.follow, name="follow"),
    path("<int:pk>/prendre/", views_teamwork.take, name="take"),
    path("<int:pk>/confier/", views_teamwork.hand_over, name="assign"),
    path("<int:pk>/liberer/", views_teamwork.release, name="release"),
    path("<int:pk>/notes/", views_teamwork.add_note, name="note"),
    path("<int:pk>/pieces.zip", views_files.download_all, name="download-all"),
    path("<int:pk>/pieces/<int:piece_pk>/", views_files.download_piece, name="download"),
    path("<int:pk>/pieces/<int:piece_pk>/champs/", views_detail.piece_fields, name="piece-fields"),
    path("<int:pk>/pieces/<int:piece_pk>/apercu/", views_previews.preview_piece, name="preview"),
    path(
        "<int:pk>/pieces/<int:piece_pk>/apercu/<int:number>/",
        views_previews.preview_image,
        name="preview-image",
    ),
    path("<int:pk>/actions/<slug:slug>/", views_actions.dossier_action, name="action"),
    path(
        "<int:pk>/envois/<int:outgoing_pk>/reessayer/",
        views_actions.retry_outgoing,
        name="retry",
    ),
]
