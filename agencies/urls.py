from django.urls import path

from . import views

urlpatterns = [
    path("<str:code>/", views.sso_start, name="sso-start"),
    path("<str:code>/callback/", views.sso_callback, name="sso-callback"),
]
