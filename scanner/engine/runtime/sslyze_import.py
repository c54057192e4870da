"""sslyze imported with its JSON models left unbuilt until first used.

sslyze describes every result's JSON form as a pydantic model (`sslyze/json/`, each plugin's `...AsJson`), and
pydantic builds a model's validator as soon as its class is created: about 40 % of importing sslyze, paid by
every command-line scan and every worker start. The engine never uses those models (the report is our own), so
they are created with pydantic's `defer_build` (https://docs.pydantic.dev/latest/api/config/#pydantic.config.ConfigDict.defer_build),
which builds a model the first time it validates or serialises, if ever. Models defined after sslyze's import
are not affected: the setting is restored once sslyze is in.
"""

from __future__ import annotations

import sys

_UNSET = object()


def import_sslyze() -> None:
    """Import sslyze (once) with its pydantic models built lazily."""
    if "sslyze" in sys.modules:
        return
    import pydantic

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
