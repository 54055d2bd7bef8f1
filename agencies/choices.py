from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyKind(models.TextChoices):
    POLICE = "police", _("Police")
    PROSECUTION = "prosecution", _("Prosecution")
    CENTRAL_AUTHORITY = "central_authority", _("Central authority")
    FIU = "fiu", _("Financial intelligence unit")
    REGULATOR = "regulator", _("Regulator")
    INTERNATIONAL = "international", _("International organisation")


# The interface languages as stored on a membership. The labels describe a
# member's setting to others (translated); the picker offers
# `settings.LANGUAGES`, which names each language in itself.
LANGUAGE_CHOICES = [("en", _("English")), ("km", _("Khmer")), ("ko", _("Korean"))]
