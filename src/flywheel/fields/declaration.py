"""Where a Field is being declared, so errors raised while building it can say so.

``Field(data_type=...)`` judges its data type when it is built, inside the class body, before
the metaclass knows the model or the field's name. To name both in the TypeError, look at the
class body being executed (its namespace holds ``__qualname__``) and at the source line
(``name = Field(...)``). Only error paths call this, so its cost does not matter.
"""
from __future__ import annotations

import linecache
import re
import sys

_ASSIGNED_NAME = re.compile(r"\s*([A-Za-z_]\w*)\s*(?::[^=]*)?=")
_MAX_FRAMES = 8


def declaration_site() -> str | None:
    """'Model.field' (or 'Model') for a Field built in a class body; None elsewhere."""
    frame = sys._getframe(1)
    for _ in range(_MAX_FRAMES):
        frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return None
        namespace = frame.f_locals
        qualname = namespace.get("__qualname__")
        if (
            isinstance(qualname, str)
            and "__module__" in namespace
            and frame.f_code.co_name == qualname.rsplit(".", 1)[-1]
        ):
            model = qualname.rsplit("<locals>.", 1)[-1]  # a class made inside a function
            line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
            match = _ASSIGNED_NAME.match(line)
            return f"{model}.{match.group(1)}" if match else model
    return None
