"""Where nginx cannot be installed, the tests behind the proxy say so: an
error under CI=true (CI's clean machine must install it), a skip with the
reason elsewhere. Simulated with nginx "missing" and no apt-get on PATH."""

import pytest

from tests import proxy


@pytest.fixture
def no_nginx_and_no_apt(monkeypatch, tmp_path):
    monkeypatch.setattr(proxy, "PACKAGES", {"nginx": lambda: False})
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no apt-get


def test_without_nginx_and_apt_the_proxy_tests_fail_under_ci(no_nginx_and_no_apt, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"nginx.*cannot be installed.*no apt-get"):
        proxy.require_nginx()


def test_without_nginx_and_apt_the_proxy_tests_skip_outside_ci(no_nginx_and_no_apt, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"nginx.*cannot be installed.*no apt-get"):
        proxy.require_nginx()
