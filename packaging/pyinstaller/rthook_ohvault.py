"""PyInstaller runtime hook: point ohvault at the resources bundled inside the frozen app.

Both `ohvault.paths.resources_dir()` and the lab catalog honour OHVAULT_RESOURCES; in a
frozen build the source-tree fallback (a `resources/` folder beside the package) does not
exist, so without this the catalog and the icons would not be found.
"""

import os
import sys

_bundle = getattr(sys, "_MEIPASS", None)
if _bundle and not os.environ.get("OHVAULT_RESOURCES"):
    os.environ["OHVAULT_RESOURCES"] = os.path.join(_bundle, "resources")
