"""sslyze imported the way a scan needs it: its JSON models left unbuilt, one warning about its data silenced.

sslyze describes every result's JSON form as a pydantic model (`sslyze/json/`, each plugin's `...AsJson`), and
pydantic builds a model's validator as soon as its class is created, a cost paid by every command-line scan and
every worker start. The engine never uses those models (the report is our own), so
they are created with pydantic's `defer_build` (https://docs.pydantic.dev/latest/api/config/#pydantic.config.ConfigDict.defer_build),
which builds a model the first time it validates or serialises, if ever. Models defined after sslyze's import
are not affected: the setting is restored once sslyze is in.

Loading sslyze's bundled trust stores makes cryptography warn about one of their CA certificates, whose serial
number is not positive (RFC 5280 section 4.1.2.2 requires a positive one): a warning about sslyze's data that
its users can do nothing about, printed under every command-line scan and in every worker's log. That one
message is silenced; any other warning still shows.
"""

from __future__ import annotations

import sys
import warnings

_UNSET = object()
_TRUST_STORE_SERIAL_WARNING = r"Parsed a serial number which wasn't positive"


def import_sslyze() -> None:
    """Import sslyze (once) with its pydantic models built lazily."""
    if "sslyze" in sys.modules:
        return
    import pydantic
    from cryptography.utils import CryptographyDeprecationWarning

    warnings.filterwarnings("ignore", message=_TRUST_STORE_SERIAL_WARNING, category=CryptographyDeprecationWarning)

    # Subclasses copy their parents' configuration when they are created, so the value set here is kept by
    # sslyze's models only.
    config = pydantic.BaseModel.model_config
    previous = config.get("defer_build", _UNSET)
    config["defer_build"] = True
    try:
        import sslyze  # noqa: F401
    finally:
        if previous is _UNSET:
            del config["defer_build"]
        else:
            config["defer_build"] = previous
