"""With DEBUG off the app serves its own static files (WhiteNoise), since the
proxy in front serves nothing itself."""

from django.test import Client


def test_collected_static_files_are_served_with_debug_off(tmp_path, settings):
    css = tmp_path / "admin" / "css" / "base.css"
    css.parent.mkdir(parents=True)
    css.write_text("body { color: black; }")
    settings.STATIC_ROOT = str(tmp_path)
    assert settings.DEBUG is False

    response = Client().get("/static/admin/css/base.css")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"body { color: black; }"
