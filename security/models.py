from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserSession(models.Model):
    """Which session keys belong to which user.

    Django's session store cannot be queried by user without decoding every
    row; this index lets deactivation end a user's sessions at once.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="web_sessions",
        verbose_name=_("user"),
    )
    session_key = models.CharField(max_length=40, unique=True, verbose_name=_("session key"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("user session")
        verbose_name_plural = _("user sessions")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.session_key[:6]}…"
