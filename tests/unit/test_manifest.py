"""The Teams app package: template, schema validation, icons, zip layout, CLI, and Microsoft's own validator."""

from __future__ import annotations

import copy
import json
import os
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from manifest import build
from manifest.build import ManifestError, build_package, check_package, main, validate_manifest
from manifest.icons import check_icons

ROOT = Path(__file__).resolve().parents[2]
NPM_PACKAGE = ROOT / "node_modules" / "@microsoft" / "app-manifest"
NPM_SCHEMA = NPM_PACKAGE / "build" / "json-schemas" / "teams" / f"v{build.MANIFEST_VERSION}" / "MicrosoftTeams.schema.json"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

APP_ID = "2b1f0c3e-8d4a-4f6b-9a7e-1c2d3e4f5a6b"
SCOPES = {"team", "groupChat", "personal"}
REQUIRED_IN_EVERY_SCOPE = {"help", "new", "list", "show", "standup", "exit", "oncall", "status"}
ALL_COMMANDS = REQUIRED_IN_EVERY_SCOPE | {"history", "ack", "assign", "resolve", "roles"}


def _needs(available: bool, reason: str) -> None:
    """Skip, saying why, when a Microsoft tool is not installed; in CI that is a failure instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this check may not be skipped; run `npm ci`)")
    pytest.skip(f"{reason}; run `npm ci` to include this check")


def _png(width: int, height: int, pixel, *, color_type: int = 6, filters: tuple[int, ...] = (0,)) -> bytes:
    """A PNG drawn by `pixel(x, y) -> tuple`, rows filtered in turn with `filters` (PNG filter types 0-4)."""
    channels = {6: 4, 2: 3}[color_type]

    def paeth(a: int, b: int, c: int) -> int:
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else b if pb <= pc else c

    raw, previous = bytearray(), bytes(width * channels)
    for y in range(height):
        line = bytes(sample for x in range(width) for sample in pixel(x, y))
        kind = filters[y % len(filters)]
        out = bytearray()
        for i, value in enumerate(line):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            predictor = [0, left, up, (left + up) // 2, paeth(left, up, up_left)][kind]
            out.append((value - predictor) & 0xFF)
        raw += bytes([kind]) + out
        previous = line

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _glyph(x: int, y: int) -> tuple[int, int, int, int]:
    """White ring on transparent, with soft (partly transparent) white edges."""
    d = abs(((x - 15.5) ** 2 + (y - 15.5) ** 2) ** 0.5 - 10)
    return (255, 255, 255, 255 if d < 1.5 else 96 if d < 2.5 else 0)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return build.load_template()


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return build.render_manifest(app_id=APP_ID, valid_domain="hypercare.contoso.com")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(
        app_id=APP_ID,
        out=tmp_path_factory.mktemp("package") / "hypercare-app.zip",
        name="Contoso Hypercare",
        developer_name="Contoso D365 Programme",
        valid_domain="hypercare.contoso.com",
        version="1.4.2",
    )


# --- the package ----------------------------------------------------------------------------------


def test_package_has_manifest_and_icons_at_the_root_at_their_sizes(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        written = json.loads(archive.read("manifest.json"))
        assert _png_size(archive.read("color.png")) == (192, 192)
        assert _png_size(archive.read("outline.png")) == (32, 32)
        assert archive.read("color.png") == build.COLOR_ICON_PATH.read_bytes()
    assert written["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert check_package(package) == []
    assert validate_manifest(written) == []


def test_package_carries_the_given_values_and_no_placeholder(package: Path) -> None:
    text = zipfile.ZipFile(package).read("manifest.json").decode("utf-8")
    assert "{{" not in text and "}}" not in text
    written = json.loads(text)
    assert written["id"] == written["bots"][0]["botId"] == written["composeExtensions"][0]["botId"] == APP_ID
    assert written["version"] == "1.4.2"
    assert written["name"]["short"] == "Contoso Hypercare"
    assert written["developer"] == {
        "name": "Contoso D365 Programme",
        "websiteUrl": "https://hypercare.contoso.com/",
        "privacyUrl": "https://hypercare.contoso.com/privacy",
        "termsOfUseUrl": "https://hypercare.contoso.com/terms",
    }
    assert written["validDomains"] == ["hypercare.contoso.com"]
    assert "Contoso Hypercare" in written["description"]["full"]


def test_the_same_input_builds_the_same_bytes(tmp_path: Path) -> None:
    first = build_package(app_id=APP_ID, out=tmp_path / "a.zip")
    second = build_package(app_id=APP_ID, out=tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()


def test_values_are_substituted_as_json_values_not_as_text(tmp_path: Path) -> None:
    awkward = 'Ops "War" Room \\ {x}'
    path = build_package(app_id=APP_ID, out=tmp_path / "p.zip", developer_name=awkward)
    assert json.loads(zipfile.ZipFile(path).read("manifest.json"))["developer"]["name"] == awkward


def test_template_placeholders_are_exactly_the_ones_build_fills(template: dict[str, Any]) -> None:
    assert build.template_placeholders(template) == {
        "APP_ID", "BOT_NAME", "DEVELOPER_NAME", "WEBSITE_URL", "PRIVACY_URL", "TERMS_URL", "VALID_DOMAIN", "VERSION",
    }
    with pytest.raises(ManifestError) as missing:
        build.render_template({"APP_ID": APP_ID}, template)
    assert "the template needs a value for {{BOT_NAME}}" in missing.value.problems


# --- the template ---------------------------------------------------------------------------------


def test_bot_has_three_scopes_and_at_most_twelve_commands_per_scope(template: dict[str, Any]) -> None:
    schema = json.loads(build.SCHEMA_PATH.read_text("utf-8-sig"))
    schema_limit = schema["properties"]["bots"]["items"]["properties"]["commandLists"]["items"]["properties"][
        "commands"
    ]["maxItems"]
    bot = template["bots"][0]
    assert bot["botId"] == "{{APP_ID}}" == template["id"]
    assert set(bot["scopes"]) == SCOPES
    assert bot["supportsFiles"] is False
    by_scope: dict[str, list[dict[str, str]]] = {}
    for command_list in bot["commandLists"]:
        for scope in command_list["scopes"]:
            assert scope not in by_scope, f"{scope} has two command lists"
            by_scope[scope] = command_list["commands"]
    assert set(by_scope) == SCOPES
    listed = set()
    for scope, commands in by_scope.items():
        titles = [command["title"] for command in commands]
        assert len(titles) <= min(12, schema_limit), scope
        assert len(set(titles)) == len(titles), f"{scope} lists a command twice"
        assert REQUIRED_IN_EVERY_SCOPE <= set(titles), f"{scope} misses {REQUIRED_IN_EVERY_SCOPE - set(titles)}"
        assert all(len(command["description"]) >= 20 for command in commands), scope
        listed |= set(titles)
    assert listed == ALL_COMMANDS


def test_message_extension_raises_an_issue_from_any_message(template: dict[str, Any]) -> None:
    [extension] = template["composeExtensions"]
    assert extension["botId"] == template["bots"][0]["botId"]
    [command] = extension["commands"]
    assert command["id"] == "raiseIssue"
    assert command["type"] == "action"
    assert command["title"] == "Raise hypercare issue"
    assert command["context"] == ["message"]
    assert command["fetchTask"] is True


def test_descriptions_explain_hypercare_within_their_limits(template: dict[str, Any]) -> None:
    longest_name = build.render_manifest(app_id=APP_ID, name="N" * 30)  # names are at most 30 characters
    assert len(longest_name["description"]["short"]) <= 80
    assert len(longest_name["description"]["full"]) <= 4000
    full = template["description"]["full"].lower()
    for idea in ("dynamics 365 go-live", "time-boxed", "elevated support", "sev1", "sev4", "acknowledge",
                 "remind", "escalat", "stand-up", "exit criteria", "signs the phase off", "runbook"):
        assert idea in full, idea
    assert template["accentColor"].startswith("#") and len(template["accentColor"]) == 7
    assert template["validDomains"] == ["{{VALID_DOMAIN}}"]
    assert "webApplicationInfo" not in template


def test_template_uses_the_vendored_schema_version(template: dict[str, Any]) -> None:
    schema = json.loads(build.SCHEMA_PATH.read_text("utf-8-sig"))
    version = schema["properties"]["manifestVersion"]["const"]
    assert template["manifestVersion"] == version == build.MANIFEST_VERSION
    assert template["$schema"] == f"https://developer.microsoft.com/json-schemas/teams/v{version}/MicrosoftTeams.schema.json"
    assert tuple(map(int, version.split("."))) >= (1, 19)


# --- schema validation ----------------------------------------------------------------------------


def _broken(manifest: dict[str, Any], change) -> dict[str, Any]:
    copied = copy.deepcopy(manifest)
    change(copied)
    return copied


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m["bots"][0].pop("botId"), "/bots/0: 'botId' is a required property"),
        (lambda m: m.update(warRoom="finance"), "/: Additional properties are not allowed ('warRoom' was unexpected)"),
        (lambda m: m["description"].update(short="x" * 81), "/description/short: '" + "x" * 81 + "' is too long"),
        (lambda m: m.update(id="hypercare-bot"), "/id: 'hypercare-bot' does not match"),
        (lambda m: m["composeExtensions"][0]["commands"][0].update(context=["chat"]),
         "/composeExtensions/0/commands/0/context/0: 'chat' is not one of ['compose', 'commandBox', 'message']"),
        (lambda m: m.update(manifestVersion="1.5"), "/manifestVersion: '1.22' was expected"),
        (lambda m: m["bots"][0]["commandLists"][0]["commands"].extend([{"title": "x", "description": "y"}] * 3),
         "/bots/0/commandLists/0/commands: [{"),
    ],
    ids=["missing-botId", "unknown-property", "short-description-too-long", "app-id-not-guid", "bad-context",
         "manifest-version", "too-many-commands"],
)
def test_schema_names_the_path_of_what_is_wrong(manifest: dict[str, Any], change, expected: str) -> None:
    assert validate_manifest(manifest) == []
    problems = validate_manifest(_broken(manifest, change))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_every_problem_is_reported_at_once(manifest: dict[str, Any]) -> None:
    broken = _broken(manifest, lambda m: (m["bots"][0].pop("botId"), m.update(colour="red")))
    assert len(validate_manifest(broken)) == 2


def test_bad_values_fail_the_build_with_every_problem_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "p.zip"
    with pytest.raises(ManifestError) as failure:
        build_package(app_id="my-bot", out=out, name="X" * 31, version="1.0", valid_domain="https://bot.contoso.com/")
    problems = failure.value.problems
    assert any(p.startswith("app id 'my-bot' is not a GUID") for p in problems), problems
    assert any(p.startswith("/name/short: '" + "X" * 31 + "' is too long") for p in problems), problems
    assert any(p.startswith("version '1.0' is not MAJOR.MINOR.PATCH") for p in problems), problems
    assert any(p.startswith("domain 'https://bot.contoso.com/' is not a host name") for p in problems), problems
    assert any(p.startswith("/bots/0/botId: 'my-bot' does not match") for p in problems), problems
    assert "is not a GUID" in str(failure.value)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_http_urls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as failure:
        build_package(app_id=APP_ID, out=tmp_path / "p.zip", privacy_url="http://contoso.com/privacy")
    assert failure.value.problems == ["privacy URL 'http://contoso.com/privacy' is not an https:// URL"]


# --- icons ----------------------------------------------------------------------------------------


def test_shipped_icons_pass() -> None:
    color, outline = build.COLOR_ICON_PATH.read_bytes(), build.OUTLINE_ICON_PATH.read_bytes()
    assert check_icons(color, outline) == []
    assert _png_size(color) == (192, 192) and _png_size(outline) == (32, 32)
    assert outline[25] == 6  # IHDR colour type: RGBA


def test_wrong_sizes_are_refused() -> None:
    outline = _png(32, 32, _glyph)
    color = _png(128, 128, lambda x, y: (14, 94, 122), color_type=2)
    assert check_icons(color, outline) == ["color icon is 128x128 pixels, it must be 192x192"]
    big_outline = _png(48, 48, lambda x, y: _glyph(x % 32, y % 32))
    assert check_icons(build.COLOR_ICON_PATH.read_bytes(), big_outline) == [
        "outline icon is 48x48 pixels, it must be 32x32"
    ]


def test_outline_must_be_white_on_transparent() -> None:
    color = build.COLOR_ICON_PATH.read_bytes()
    assert check_icons(color, _png(32, 32, _glyph)) == []
    opaque = _png(32, 32, lambda x, y: (255, 255, 255, 255))
    assert check_icons(color, opaque) == [
        "outline icon background is not transparent: only 0 of 1024 pixels are fully transparent (at least 25% must be)"
    ]
    red = _png(32, 32, lambda x, y: (200, 30, 30, 255) if _glyph(x, y)[3] else (0, 0, 0, 0))
    glyph_pixels = sum(1 for x in range(32) for y in range(32) if _glyph(x, y)[3])
    [problem] = check_icons(color, red)
    assert problem.startswith(f"outline icon has {glyph_pixels} pixel(s) that are neither white nor transparent")
    no_alpha = _png(32, 32, lambda x, y: (255, 255, 255), color_type=2)
    assert check_icons(color, no_alpha) == [
        "outline icon has PNG colour type 2: it must be RGBA (colour type 6) so that its background can be transparent"
    ]
    assert check_icons(b"GIF89a...", b"not a png") == ["color icon is not a PNG file", "outline icon is not a PNG file"]


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4], ids=["none", "sub", "up", "average", "paeth"])
def test_outline_pixels_are_read_through_every_png_filter(kind: int) -> None:
    color = build.COLOR_ICON_PATH.read_bytes()
    assert check_icons(color, _png(32, 32, _glyph, filters=(kind,))) == []
    # one grey, fully opaque pixel at (x=y, y) on every 4th row: the filter must be undone to find them
    grey = _png(32, 32, lambda x, y: (128, 128, 128, 255) if x == y and y % 4 == 0 else _glyph(x, y), filters=(kind,))
    [problem] = check_icons(color, grey)
    assert problem.startswith("outline icon has 8 pixel(s) that are neither white nor transparent (the first at x=0, y=0)")


def test_corrupt_png_is_refused() -> None:
    outline = bytearray(_png(32, 32, _glyph))
    outline[50] ^= 0xFF  # signature 8 + IHDR chunk 25 + IDAT length and type 8: byte 50 is IDAT data
    assert check_icons(build.COLOR_ICON_PATH.read_bytes(), bytes(outline)) == [
        "outline icon has a corrupt IDAT chunk (CRC mismatch)"
    ]


# --- check_package --------------------------------------------------------------------------------


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def test_check_package_finds_layout_problems(tmp_path: Path, manifest: dict[str, Any]) -> None:
    good = {
        "manifest.json": json.dumps(manifest).encode(),
        "color.png": build.COLOR_ICON_PATH.read_bytes(),
        "outline.png": build.OUTLINE_ICON_PATH.read_bytes(),
    }
    assert check_package(_zip(tmp_path / "good.zip", good)) == []
    nested = _zip(tmp_path / "nested.zip", {f"appPackage/{name}": data for name, data in good.items()})
    assert check_package(nested) == [
        "manifest.json is not at the root of the package (found appPackage/manifest.json: zip the files, not their folder)"
    ]
    missing = _zip(tmp_path / "missing.zip", {k: v for k, v in good.items() if k != "outline.png"})
    assert check_package(missing) == ["outline.png is referenced by manifest.json but is not in the package"]
    small = _zip(tmp_path / "small.zip", {**good, "color.png": _png(32, 32, lambda x, y: (14, 94, 122), color_type=2)})
    assert check_package(small) == ["color icon is 32x32 pixels, it must be 192x192"]
    invalid = _zip(tmp_path / "invalid.zip", {**good, "manifest.json": json.dumps({**manifest, "id": "x"}).encode()})
    assert check_package(invalid)[0].startswith("manifest.json /id: 'x' does not match")
    (tmp_path / "not.zip").write_text("hello")
    assert check_package(tmp_path / "not.zip")[0].startswith(f"{tmp_path / 'not.zip'} is not a zip file")


# --- the command line -----------------------------------------------------------------------------


def test_cli_builds_and_checks_a_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hypercare-app.zip"
    code = main(["build", "--app-id", APP_ID, "--name", "War Room", "--domain", "bot.contoso.com", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert f"wrote {out}" in printed.out
    assert json.loads(zipfile.ZipFile(out).read("manifest.json"))["developer"]["websiteUrl"] == "https://bot.contoso.com/"
    assert main(["check", str(out)]) == 0
    assert "a valid Teams app package" in capsys.readouterr().out


def test_cli_reports_problems_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hypercare-app.zip"
    assert main(["build", "--app-id", "not-a-guid", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "app id 'not-a-guid' is not a GUID" in err
    assert "/id: 'not-a-guid' does not match" in err
    assert not out.exists()
    assert main(["build", "--out", str(out)]) == 2  # --app-id is required
    assert "--app-id" in capsys.readouterr().err


# --- Microsoft's own copies and validator ---------------------------------------------------------


def test_vendored_schema_is_byte_identical_to_microsofts() -> None:
    _needs(NPM_SCHEMA.is_file(), f"{NPM_SCHEMA.relative_to(ROOT)} is not installed")
    assert build.SCHEMA_PATH.read_bytes() == NPM_SCHEMA.read_bytes()


# validateAgainstSchema reads the bundled schema named by $schema and never needs the network; fetch is
# blocked to prove it. @microsoft/app-manifest 1.1.2 requires fs-extra without declaring it as a dependency:
# when it is not installed, its four file-reading functions are given from Node's fs (validation itself is
# Microsoft's code: ajv with the draft-04 schema).
_VALIDATE_JS = r"""
const Module = require("module");
const fs = require("fs");
const fsExtra = { pathExists: (p) => fs.promises.access(p).then(() => true, () => false),
                  readFile: fs.promises.readFile, readFileSync: fs.readFileSync, writeFile: fs.promises.writeFile };
const load = Module._load;
Module._load = function (request, ...rest) {
  try { return load.call(this, request, ...rest); }
  catch (e) { if (request === "fs-extra" && e.code === "MODULE_NOT_FOUND") return fsExtra; throw e; }
};
globalThis.fetch = async (u) => { throw new Error("NETWORK ATTEMPT BLOCKED: " + u); };
const { AppManifestUtils } = require(process.argv[2]);
(async () => {
  const results = [];
  for (const file of process.argv.slice(3)) {
    results.push(await AppManifestUtils.validateAgainstSchema(JSON.parse(fs.readFileSync(file, "utf8"))));
  }
  console.log(JSON.stringify(results));
})().catch((e) => { console.error(e.stack || String(e)); process.exit(2); });
"""


def test_microsofts_validator_accepts_the_built_manifest(package: Path, tmp_path: Path) -> None:
    node = shutil.which("node")
    _needs(node is not None, "node is not installed")
    _needs((NPM_PACKAGE / "package.json").is_file(), f"{NPM_PACKAGE.relative_to(ROOT)} is not installed")
    built = tmp_path / "manifest.json"
    built.write_bytes(zipfile.ZipFile(package).read("manifest.json"))
    broken = tmp_path / "broken.json"  # proves the validator is really looking
    written = json.loads(built.read_text("utf-8"))
    del written["bots"][0]["botId"]
    broken.write_text(json.dumps(written), "utf-8")
    script = tmp_path / "validate.js"
    script.write_text(_VALIDATE_JS, "utf-8")
    result = subprocess.run(
        [node, str(script), str(NPM_PACKAGE), str(built), str(broken)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    good_errors, broken_errors = json.loads(result.stdout)
    assert good_errors == []
    assert any(error.startswith("/bots/0 must have required property 'botId'") for error in broken_errors), broken_errors
