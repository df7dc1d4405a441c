"""The Teams app package: render the manifest template, validate it, check the icons, zip it.

`hypercare manifest build --app-id ID --out hypercare-app.zip` writes a package to upload in Teams
(Apps > Manage your apps > Upload an app) or in the Developer Portal. The manifest is validated with
jsonschema's Draft 4 validator against Microsoft's own schema, vendored byte for byte from
`@microsoft/app-manifest` as `schema/MicrosoftTeams.schema.json`, so the build needs no network.
The icons are checked in `icons.py`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from manifest.icons import check_icons

HERE = Path(__file__).resolve().parent
TEMPLATE_PATH = HERE / "manifest.template.json"
SCHEMA_PATH = HERE / "schema" / "MicrosoftTeams.schema.json"
COLOR_ICON_PATH = HERE / "color.png"
OUTLINE_ICON_PATH = HERE / "outline.png"

MANIFEST_VERSION = "1.22"

DEFAULT_DOMAIN = "hypercare.example.com"
DEFAULT_DEVELOPER_NAME = "Hypercare war room"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
# validDomains take host names (a leading `*.` wildcard allowed), no scheme and no path.
_DOMAIN = re.compile(r"^(\*\.)?(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(:\d{1,5})?$")
_PLACEHOLDER = re.compile(r"\{\{([A-Z][A-Z0-9_]*)\}\}")


class ManifestError(ValueError):
    """The manifest, the icons or the package are not valid; `problems` lists every one of them."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("the Teams app package is not valid:\n" + "\n".join(f"  - {p}" for p in self.problems))


# --- the manifest ---------------------------------------------------------------------------------


def load_template() -> dict[str, Any]:
    return json.loads(TEMPLATE_PATH.read_text("utf-8"))


def template_placeholders(template: Any | None = None) -> set[str]:
    """The names of the `{{NAME}}` placeholders used anywhere in the template's string values."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.update(_PLACEHOLDER.findall(node))
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(load_template() if template is None else template)
    return found


def render_template(values: Mapping[str, str], template: Any | None = None) -> dict[str, Any]:
    """The template with its placeholders filled in, on the parsed JSON (a value can never break the JSON).

    A string that is exactly `{{NAME}}` becomes the value; a placeholder inside a longer string is
    replaced in that string. A placeholder without a value, or a value without a placeholder, is an error.
    """
    template = load_template() if template is None else template
    wanted = template_placeholders(template)
    problems = [f"the template needs a value for {{{{{name}}}}}" for name in sorted(wanted - values.keys())]
    problems += [f"{{{{{name}}}}} is not used by the template" for name in sorted(values.keys() - wanted)]
    if problems:
        raise ManifestError(problems)

    def fill(node: Any) -> Any:
        if isinstance(node, str):
            whole = _PLACEHOLDER.fullmatch(node)
            if whole:
                return values[whole.group(1)]
            return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), node)
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            return [fill(value) for value in node]
        return node

    return fill(template)


_validator: jsonschema.protocols.Validator | None = None


def _schema_validator() -> jsonschema.protocols.Validator:
    global _validator
    if _validator is None:
        schema = json.loads(SCHEMA_PATH.read_text("utf-8-sig"))
        # Microsoft's draft-04 schemas use `const` (manifestVersion), a draft-06 keyword that Microsoft's
        # own validator (ajv) enforces; without it Draft 4 would accept any manifestVersion.
        cls = jsonschema.validators.extend(
            jsonschema.Draft4Validator, {"const": jsonschema.Draft6Validator.VALIDATORS["const"]}
        )
        cls.check_schema(schema)
        formats = jsonschema.FormatChecker(formats=("regex",))
        # ajv-formats checks `uri` too; this is the part of RFC 3986 that matters here: a scheme, no spaces.
        formats.checks("uri")(lambda value: not isinstance(value, str) or _is_uri(value))
        _validator = cls(schema, format_checker=formats)  # `$ref`s are resolved within the schema file
    return _validator


def _is_uri(value: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$", value))


def _json_path(path: Sequence[Any]) -> str:
    return "/" + "/".join(str(part) for part in path)


def validate_manifest(manifest: Mapping[str, Any]) -> list[str]:
    """Every way `manifest` breaks the Teams schema, as `/json/path: schema message`; empty when valid."""
    errors = sorted(_schema_validator().iter_errors(manifest), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    problems = []
    for error in errors:
        message = error.message
        if len(message) > 300:
            message = message[:300] + "…"
        problems.append(f"{_json_path(error.absolute_path)}: {message}")
    return problems


def _check_inputs(*, app_id: str, name: str, version: str, valid_domain: str, urls: Mapping[str, str]) -> list[str]:
    """What the schema (1.22) does not say but Teams requires of the values we fill in."""
    problems = []
    if not _GUID.match(app_id or ""):
        problems.append(
            f"app id {app_id!r} is not a GUID: give the Microsoft App ID of the Azure Bot registration, "
            "like 00000000-0000-0000-0000-000000000000"
        )
    if not name.strip():
        problems.append("the app name is empty")
    if not _SEMVER.match(version or ""):
        problems.append(f"version {version!r} is not MAJOR.MINOR.PATCH (for example 1.0.0)")
    if not _DOMAIN.match(valid_domain or ""):
        problems.append(
            f"domain {valid_domain!r} is not a host name (like bot.contoso.com or *.contoso.com; no https://, no path)"
        )
    for label, url in urls.items():
        parts = urlsplit(url or "")
        if parts.scheme.lower() != "https" or not parts.netloc:
            problems.append(f"{label} {url!r} is not an https:// URL")
    return problems


def render_manifest(
    *,
    app_id: str,
    name: str = "Hypercare",
    developer_name: str = DEFAULT_DEVELOPER_NAME,
    website_url: str | None = None,
    privacy_url: str | None = None,
    terms_url: str | None = None,
    valid_domain: str = DEFAULT_DOMAIN,
    version: str = "1.0.0",
) -> dict[str, Any]:
    """The manifest for these values, validated; raises ManifestError listing every problem."""
    website_url = website_url or f"https://{valid_domain.removeprefix('*.')}/"
    privacy_url = privacy_url or website_url.rstrip("/") + "/privacy"
    terms_url = terms_url or website_url.rstrip("/") + "/terms"
    urls = {"website URL": website_url, "privacy URL": privacy_url, "terms of use URL": terms_url}
    problems = _check_inputs(app_id=app_id, name=name, version=version, valid_domain=valid_domain, urls=urls)
    manifest = render_template(
        {
            "APP_ID": app_id,
            "BOT_NAME": name,
            "DEVELOPER_NAME": developer_name,
            "WEBSITE_URL": website_url,
            "PRIVACY_URL": privacy_url,
            "TERMS_URL": terms_url,
            "VALID_DOMAIN": valid_domain,
            "VERSION": version,
        }
    )
    problems += validate_manifest(manifest)
    if problems:
        raise ManifestError(problems)
    return manifest


# --- the package ----------------------------------------------------------------------------------


def _referenced_files(manifest: Mapping[str, Any]) -> list[str]:
    icons = manifest.get("icons") if isinstance(manifest.get("icons"), dict) else {}
    files = [icons[key] for key in ("color", "outline", "color32x32") if isinstance(icons.get(key), str)]
    localization = manifest.get("localizationInfo")
    if isinstance(localization, dict):
        if isinstance(localization.get("defaultLanguageFile"), str):
            files.append(localization["defaultLanguageFile"])
        for language in localization.get("additionalLanguages") or []:
            if isinstance(language, dict) and isinstance(language.get("file"), str):
                files.append(language["file"])
    for extension in manifest.get("composeExtensions") or []:
        if isinstance(extension, dict) and isinstance(extension.get("apiSpecificationFile"), str):
            files.append(extension["apiSpecificationFile"])
    return files


def check_package(zip_path: str | os.PathLike[str]) -> list[str]:
    """Problems with a Teams app package: manifest.json at the root and valid, icons present and
    the right size, every file the manifest refers to inside the zip."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as error:
        return [f"{zip_path} is not a zip file ({error})"]
    with archive:
        names = set(archive.namelist())
        if "manifest.json" not in names:
            nested = sorted(name for name in names if name.endswith("/manifest.json"))
            hint = f" (found {nested[0]}: zip the files, not their folder)" if nested else ""
            return [f"manifest.json is not at the root of the package{hint}"]
        try:
            manifest = json.loads(archive.read("manifest.json").decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return [f"manifest.json is not valid JSON ({error})"]
        if not isinstance(manifest, dict):
            return ["manifest.json is not a JSON object"]
        problems = [f"manifest.json {problem}" for problem in validate_manifest(manifest)]
        for path in _referenced_files(manifest):
            if path.replace("\\", "/").removeprefix("./") not in names:
                problems.append(f"{path} is referenced by manifest.json but is not in the package")
        icons = manifest.get("icons") if isinstance(manifest.get("icons"), dict) else {}
        color, outline = icons.get("color"), icons.get("outline")
        if isinstance(color, str) and isinstance(outline, str) and {color, outline} <= names:
            problems += check_icons(archive.read(color), archive.read(outline))
    return problems


def _zip_bytes(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # the same input gives the same zip
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def build_package(
    *,
    app_id: str,
    out: Path,
    name: str = "Hypercare",
    developer_name: str = DEFAULT_DEVELOPER_NAME,
    website_url: str | None = None,
    privacy_url: str | None = None,
    terms_url: str | None = None,
    valid_domain: str = DEFAULT_DOMAIN,
    version: str = "1.0.0",
) -> Path:
    """Write the Teams app package (manifest.json, color.png, outline.png at the root) to `out`.

    The URLs default to https://{valid_domain}/, …/privacy and …/terms. Raises ManifestError with every
    problem (and writes nothing) if the values, the manifest or the icons are not valid.
    """
    try:
        manifest = render_manifest(
            app_id=app_id,
            name=name,
            developer_name=developer_name,
            website_url=website_url,
            privacy_url=privacy_url,
            terms_url=terms_url,
            valid_domain=valid_domain,
            version=version,
        )
        problems: list[str] = []
    except ManifestError as error:
        manifest, problems = {}, list(error.problems)
    color, outline = COLOR_ICON_PATH.read_bytes(), OUTLINE_ICON_PATH.read_bytes()
    problems += check_icons(color, outline)
    if problems:
        raise ManifestError(problems)

    files = {
        "manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        manifest["icons"]["color"]: color,
        manifest["icons"]["outline"]: outline,
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written next to the target and renamed, so a failure never leaves half a package behind.
    handle, temporary = tempfile.mkstemp(prefix=".hypercare-app-", suffix=".zip", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(_zip_bytes(files))
        problems = check_package(temporary)
        if problems:
            raise ManifestError(problems)
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return out


# --- the command line -----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hypercare manifest", description="The Teams app package of the bot.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write the Teams app package (a zip to upload in Teams)")
    build.add_argument("--app-id", required=True, help="the Microsoft App ID of the Azure Bot registration (a GUID)")
    build.add_argument("--name", default="Hypercare", help="the bot's name in Teams (at most 30 characters)")
    build.add_argument("--developer-name", default=DEFAULT_DEVELOPER_NAME, help="who publishes the app")
    build.add_argument("--website-url", help="default https://DOMAIN/")
    build.add_argument("--privacy-url", help="default WEBSITE_URL/privacy")
    build.add_argument("--terms-url", help="default WEBSITE_URL/terms")
    build.add_argument("--domain", default=DEFAULT_DOMAIN, help="the bot's host name, for validDomains")
    build.add_argument("--version", default="1.0.0", help="the app version; raise it for every new upload")
    build.add_argument("--out", required=True, type=Path, help="where to write the zip, e.g. hypercare-app.zip")
    check = commands.add_parser("check", help="check an existing package: manifest schema, layout and icons")
    check.add_argument("package", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`hypercare manifest build …` / `hypercare manifest check PACKAGE`; 0 when fine, 2 on problems."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse's own usage errors and --help
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command == "check":
        problems = check_package(args.package)
        if problems:
            print(f"{args.package}: not a valid Teams app package", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
            return 2
        print(f"{args.package}: a valid Teams app package")
        return 0
    try:
        path = build_package(
            app_id=args.app_id,
            out=args.out,
            name=args.name,
            developer_name=args.developer_name,
            website_url=args.website_url,
            privacy_url=args.privacy_url,
            terms_url=args.terms_url,
            valid_domain=args.domain,
            version=args.version,
        )
    except ManifestError as error:
        print(error, file=sys.stderr)
        return 2
    if args.domain == DEFAULT_DOMAIN and not args.website_url:
        print(f"note: no --domain given, the package names {DEFAULT_DOMAIN}; set it before publishing", file=sys.stderr)
    print(f"wrote {path} (manifest {MANIFEST_VERSION}, app id {args.app_id}, version {args.version})")
    return 0
