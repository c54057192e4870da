"""DRF's content negotiation, with each answer remembered per process.

Which renderer answers depends only on the view's renderers, the format asked for (suffix or ?format=) and the
Accept header, and DRF parses and ranks the header's media types again on every request: about 40 µs, some 4 %
of a site-list page. The choice is remembered by those inputs; a refusal (406) is not, and is worked out again.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

# Accept headers are the client's to choose: past this many different ones the memory starts over.
MAX_REMEMBERED = 256
# (renderers, format suffix, ?format=, Accept) -> (the chosen renderer's index, the media type answered)
_choices: dict[tuple, tuple[int, str]] = {}


class RememberedContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        key = (
            tuple((type(renderer), renderer.media_type, renderer.format) for renderer in renderers),
            format_suffix,
            request.query_params.get(self.settings.URL_FORMAT_OVERRIDE),
            request.META.get("HTTP_ACCEPT", "*/*"),
        )
        choice = _choices.get(key)
        if choice is not None:
            index, media_type = choice
            return renderers[index], media_type
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if len(_choices) >= MAX_REMEMBERED:
            _choices.clear()
        _choices[key] = (renderers.index(renderer), media_type)
        return renderer, media_type
