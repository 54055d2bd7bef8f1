from cases.access import visible_cases


def test_outsider_sees_no_case(case, outsider):
    assert not visible_cases(outsider).exists()


def test_shared_agency_sees_case(shared_case, kh_investigator):
    assert list(visible_cases(kh_investigator)) == [shared_case]
