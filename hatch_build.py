"""Bundle the built data package into the wheel, as ``reported_claims/_data/``.

A static ``force-include`` would also be demanded by editable installs, which read the
package at the repository root instead and must work before anything is built; so the
mapping is added here, for regular wheels only, with a message saying what to run.
"""

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLE = {
    "datapackage.json": "reported_claims/_data/datapackage.json",
    "data": "reported_claims/_data/data",
}


class DataPackageHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        missing = [name for name in BUNDLE if not (root / name).exists()]
        if missing:
            raise FileNotFoundError(
                f"the wheel bundles the built data package, but {', '.join(missing)} is missing "
                f"from {root}: run `reported-claims build` (or scripts/build) first"
            )
        build_data["force_include"].update({str(root / src): dest for src, dest in BUNDLE.items()})
