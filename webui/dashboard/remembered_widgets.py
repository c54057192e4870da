"""A form renderer that renders each distinct widget once: the site lists' filter form draws the same eight
widgets (the same choices, mostly the same values) on every request, and drawing them through Django's widget
templates was a few milliseconds of a page that must stay fast at 10,000 sites."""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates

# Distinct widgets kept: a few per filter and value in use; past this the memory starts over.
MAX_REMEMBERED = 1024


class RememberedWidgets(DjangoTemplates):
    """Django's template renderer, remembering what each widget context rendered. Only for forms whose widget
    contexts are plain values (text, numbers, lists and dicts of them): the context's repr is the key, so an
    object whose repr does not tell its value apart (a model instance) would mix up two widgets."""

    def __init__(self) -> None:
        super().__init__()
        self._rendered: dict[tuple[str, str], str] = {}

    def render(self, template_name, context, request=None):
        if request is not None:  # a request adds CSRF tokens and context processors: nothing to share
            return super().render(template_name, context, request)
        key = (template_name, repr(context))
        html = self._rendered.get(key)
        if html is None:
            html = super().render(template_name, context)
            if len(self._rendered) >= MAX_REMEMBERED:
                self._rendered.clear()
            self._rendered[key] = html
        return html
