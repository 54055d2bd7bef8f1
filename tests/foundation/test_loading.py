"""`config.loading.from_db` builds the same instances as Django's own."""

import pytest
from django.db import models

from cases import services
from cases.models import Case, CaseParticipation, Note, Task
from config import loading

pytestmark = pytest.mark.django_db

MODELS = (Case, CaseParticipation, Task, Note)


def _django_loaded(queryset):
    """The queryset's instances as `Model.from_db` (with `__init__`) builds them."""
    model = queryset.model
    fast = model.__dict__["from_db"]
    model.from_db = classmethod(models.Model.from_db.__func__)
    try:
        return list(queryset.all())
    finally:
        model.from_db = fast


def _attributes(instance) -> dict:
    return {k: v for k, v in instance.__dict__.items() if k != "_state"}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_loaded_instances_hold_what_djangos_init_gives(world, model):
    queryset = model.objects.order_by("pk")

    fast, reference = list(queryset), _django_loaded(queryset)

    assert [_attributes(i) for i in fast] == [_attributes(i) for i in reference]
    assert all(not i._state.adding and i._state.db == "default" for i in fast)


def test_fields_left_out_by_only_are_deferred_and_read_on_access(world):
    fast = Case.objects.only("title").get(pk=world.case.pk)
    reference = _django_loaded(Case.objects.only("title").filter(pk=world.case.pk))[0]

    assert fast.get_deferred_fields() == reference.get_deferred_fields()
    assert "summary" in fast.get_deferred_fields()
    assert fast.summary == world.case.summary


def test_an_instance_built_from_a_row_saves_its_change(world, knp_coordinator):
    case = Case.objects.get(pk=world.case.pk)

    services.update_case(actor=knp_coordinator, case=case, title="Renamed")

    assert Case.objects.get(pk=world.case.pk).title == "Renamed"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_list_models_build_rows_without_init(model):
    assert model.from_db.__func__ is loading.from_db.__func__
