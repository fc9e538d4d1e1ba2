"""``{% step_up_purpose as purpose %}``: what the step-up page confirms; ``{% step_up_form_token %}``:
the hidden field of a form that carries a secret (see ``portal.identity``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from portal.identity import FORM_TOKEN_FIELD, secret_form_token, step_up_purpose_for

register = template.Library()


@register.simple_tag(takes_context=True)
def step_up_purpose(context: Any) -> str:
    request = context.get("request")
    return step_up_purpose_for(request) if request is not None else ""


@register.simple_tag(takes_context=True)
def step_up_form_token(context: Any) -> str:
    """The hidden field that keeps a secret form valid past the step-up window
    (``portal.identity.step_up_keeping``)."""
    request = context.get("request")
    token = secret_form_token(request) if request is not None else ""
    if not token:
        return ""
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_TOKEN_FIELD, token)
