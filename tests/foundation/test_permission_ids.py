"""The gate's per-process permission ids follow the permission table."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.management.sql import emit_post_migrate_signal

from cases import access

pytestmark = pytest.mark.django_db


def _recreate_view_case() -> Permission:
    old = Permission.objects.get(codename="view_case", content_type__app_label="cases")
    content_type, name = old.content_type, old.name
    old.delete()
    return Permission.objects.create(codename="view_case", content_type=content_type, name=name)


def test_a_recreated_permission_is_read_again():
    access.case_permission_id("view_case")
    new = _recreate_view_case()
    assert access.case_permission_id("view_case") == new.pk


def test_migrate_forgets_the_permission_ids():
    access.case_permission_id("view_case")
    access._PERMISSION_IDS["view_case"] = -1  # as if the table had been rebuilt behind it
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert access.case_permission_id("view_case") != -1
