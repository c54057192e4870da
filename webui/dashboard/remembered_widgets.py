"""A form renderer that renders each distinct widget once: the site lists' filter form draws the same eight
widgets (the same choices, mostly the same values) on every request, as the portfolio page draws the same
schedule, import, profile and channel choices, and drawing them through Django's widget templates was a few
milliseconds of a page that must stay fast at 10,000 sites."""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates

# Distinct widgets kept: a few per filter and value in use; past this the memory starts over.
MAX_REMEMBERED = 1024
# A context whose repr is longer is rendered every time (a bound form's pasted text can be megabytes).
MAX_KEY_CHARS = 4096
# A widget context is remembered only when it is made of these (and dicts, lists and tuples of them).
PLAIN_VALUES = (str, int, float, bool, type(None))


def is_plain(value) -> bool:
    """Whether `value` is text, numbers, booleans and None, or dicts, lists and tuples of them: what a repr tells
    apart by value. Exact types: a SafeString reprs as the str it renders unescaped; a model choice
    (ModelChoiceIteratorValue) or a lazily translated label reprs as its address."""
    kind = type(value)
    if kind in PLAIN_VALUES:
        return True
    if kind is dict:
        return all(type(key) is str and is_plain(item) for key, item in value.items())
    if kind is list or kind is tuple:
        return all(is_plain(item) for item in value)
    return False


class RememberedWidgets(DjangoTemplates):
    """Django's template renderer, remembering what each widget context rendered, keyed on the context's repr.
    A context that is not plain (is_plain) is rendered every time: its repr would not tell two widgets apart."""

    def __init__(self) -> None:
        super().__init__()
        self._rendered: dict[tuple[str, str], str] = {}

    def render(self, template_name, context, request=None):
        if request is not None or not is_plain(context):  # a request adds CSRF tokens and context processors
            return super().render(template_name, context, request)
        key = (template_name, repr(context))
        if len(key[1]) > MAX_KEY_CHARS:
            return super().render(template_name, context)
        html = self._rendered.get(key)
        if html is None:
            html = super().render(template_name, context)
            if len(self._rendered) >= MAX_REMEMBERED:
                self._rendered.clear()
            self._rendered[key] = html
        return html
