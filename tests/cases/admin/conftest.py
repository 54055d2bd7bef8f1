"""The standard personas signed in to the web admin."""

import pytest

from tests.admin_client import login


@pytest.fixture
def as_knp(knp_coordinator):
    return login(knp_coordinator)


@pytest.fixture
def as_kh(kh_investigator):
    return login(kh_investigator)


@pytest.fixture
def as_outsider(outsider):
    return login(outsider)
