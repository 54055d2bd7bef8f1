from django.urls import path

from . import views

app_name = "security"

urlpatterns = [
    path("2fa/setup/", views.enrol, name="enrol"),
    path("2fa/verify/", views.verify, name="verify"),
]
