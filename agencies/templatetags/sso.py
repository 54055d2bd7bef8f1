"""`{% sign_in_providers as providers %}`: the login page's "Sign in with <agency>" links."""

from __future__ import annotations

from django import template

from agencies import sso

register = template.Library()


@register.simple_tag
def sign_in_providers() -> list:
    return sso.sign_in_choices()
