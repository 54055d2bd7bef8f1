"""What a person may do with what their agency sees (DESIGN: role layer).

Here rather than in `agencies` because the gate, the admin and API bases,
audit and notifications all compare roles, and none of them should depend
on the agency directory to do so.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    INVESTIGATOR = "investigator", _("Investigator")
    COORDINATOR = "coordinator", _("Coordinator")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")


ROLE_RANK: dict[str, int] = {
    Role.VIEWER: 0,
    # Agency administrators run their agency's accounts; on case content they
    # read like viewers (separation of duties).
    Role.AGENCY_ADMIN: 0,
    Role.INVESTIGATOR: 1,
    Role.COORDINATOR: 2,
}
