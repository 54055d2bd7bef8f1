from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cases.models import Identifier

CSV = """kind,value,chain,country,date_of_birth,notes
crypto_wallet,0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed,ethereum,,,from the victim's bank
phone,010-1234-5678,,,,
crypto_wallet,0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD,ethereum,,,wrong checksum
person,김민준,,KR,1990-01-02,
horoscope,leo,,,,
phone,+82 10 1234 5678,,,,same phone again
"""


def run(tmp_path, content, *args):
    path = tmp_path / "identifiers.csv"
    path.write_text(content, encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_identifiers", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_valid_rows_are_imported_and_invalid_ones_reported_by_line(tmp_path, case, knp_coordinator):
    out, err = run(tmp_path, CSV, "--case", case.reference, "--as", knp_coordinator.username)
    assert Identifier.objects.filter(case=case).count() == 3
    assert "3 identifiers imported" in out and "3 rows refused" in out
    assert "line 4: value: The EIP-55 checksum" in err
    assert "line 6: kind: Unknown kind" in err
    assert "line 7: value: This identifier is already recorded" in err


def test_case_can_be_named_by_public_id(tmp_path, case, knp_coordinator):
    run(tmp_path, CSV, "--case", str(case.public_id), "--as", knp_coordinator.username)
    assert Identifier.objects.filter(case=case).count() == 3


def test_invisible_case_is_not_found(tmp_path, case, outsider):
    with pytest.raises(CommandError, match="not found"):
        run(tmp_path, CSV, "--case", case.reference, "--as", outsider.username)
    assert not Identifier.objects.exists()


def test_unknown_column_refuses_the_whole_file(tmp_path, case, knp_coordinator):
    with pytest.raises(CommandError, match="Unknown columns: colour"):
        run(
            tmp_path,
            "kind,value,colour\nphone,010-1234-5678,red\n",
            "--case",
            case.reference,
            "--as",
            knp_coordinator.username,
        )
    assert not Identifier.objects.exists()
