from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import HandlingCode, HandlingInstruction


class HandlingMixin(models.Model):
    """TLP 2.0 colour plus the SIENA handling instruction, on everything shared."""

    handling_code = models.CharField(
        _("handling code"), max_length=12, choices=HandlingCode.choices, default=HandlingCode.AMBER
    )
    handling_instruction = models.CharField(
        _("handling instruction"),
        max_length=2,
        choices=HandlingInstruction.choices,
        default=HandlingInstruction.H0,
    )
    handling_restriction = models.CharField(
        _("restriction (H3)"),
        max_length=500,
        blank=True,
        help_text=_("Required with H3: the restriction in words."),
    )

    class Meta:
        abstract = True
