"""The Teams app package of the hypercare bot: manifest template, icons, schema validation, zip."""

from manifest.build import ManifestError, build_package, check_package, main, validate_manifest
from manifest.icons import check_icons

__all__ = ["ManifestError", "build_package", "check_icons", "check_package", "main", "validate_manifest"]
