"""localc - drive LibreOffice Calc headless from Python tests (stdlib only).

Round-trips CSV / xlsx files through a real spreadsheet, as a French user of
LibreOffice Calc would ("Ouvrir" a CSV, then "Enregistrer sous" CSV or xlsx).

Tested with LibreOffice 7.4.7.2 (Debian 12, package ``libreoffice-calc-nogui``).

Typical use in a test::

    import localc, pytest
    pytestmark = pytest.mark.skipif(localc.soffice_path() is None,
                                    reason="LibreOffice not installed")

    def test_roundtrip(tmp_path):
        xlsx = localc.csv_to_xlsx(export_csv, tmp_path / "export.xlsx",
                                  text_columns=[3, 4])
        back = localc.csv_resave_cp1252(export_csv, tmp_path / "back.csv",
                                        text_columns=[3, 4])
        rows = localc.read_csv(back, encoding="cp1252")

How it works
------------
Each call runs ``soffice --headless --convert-to`` in a subprocess. Every
Python process gets its own private LibreOffice profile (one per locale),
made in a temp dir on first use and deleted at exit. So a desktop LibreOffice,
parallel test workers (pytest-xdist) and earlier runs cannot collide with it.
Calls in one process are serialised with a lock, because two soffice
processes must not share a profile.

The profile is seeded with:
  * ``ooSetupSystemLocale = fr-FR`` (by default). This is what makes the
    output "French Calc": new cell formats (DD/MM/YY dates, VRAI/FAUX) and the
    text written on CSV save (decimal comma, U+00A0 thousands separator).
    The CSV filter's language token (1036) only controls how text is
    *parsed* on import; it does not change what is written on export.
  * formula recalculation on load = always (xlsx and ods), so formula results
    come from a real recalculation, never from stale cached values.

soffice exits with code 0 even when a conversion fails, so ``convert`` checks
for ``Error:`` in its output and for the output file, and raises
``LibreOfficeError`` (with stdout and stderr) when either shows a failure.
"""

from __future__ import annotations

import atexit
import csv
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

__all__ = [
    "LibreOfficeError",
    "soffice_path",
    "soffice_version",
    "convert",
    "convert_many",
    "csv_filter_options",
    "csv_to_xlsx",
    "csv_resave_cp1252",
    "xlsx_to_csv",
    "xlsx_resave",
    "read_csv",
    "cleanup",
    "CSV_FILTER",
    "XLSX_FILTER",
    "CHARSET_CP1252",
    "CHARSET_UTF8",
    "LANG_FR",
    "COL_STANDARD",
    "COL_TEXT",
    "COL_MDY",
    "COL_DMY",
    "COL_YMD",
    "COL_SKIP",
    "COL_US",
]

# Filter names (case-sensitive).
CSV_FILTER = "Text - txt - csv (StarCalc)"
XLSX_FILTER = "Calc MS Excel 2007 XML"  # "Calc Office Open XML" also works

# Token 3 of the CSV options: rtl_TextEncoding numbers, NOT code-page numbers.
CHARSET_CP1252 = "1"  # Windows-1252 ("1252" would be wrong)
CHARSET_UTF8 = "76"
LANG_FR = 1036  # fr-FR as a decimal LCID (token 6)

# Column format codes for token 5 ("col/fmt/col/fmt...", columns 1-based).
COL_STANDARD, COL_TEXT, COL_MDY, COL_DMY, COL_YMD = 1, 2, 3, 4, 5
COL_SKIP, COL_US = 9, 10

_ENCODINGS = {
    "cp1252": CHARSET_CP1252,
    "windows-1252": CHARSET_CP1252,
    "utf-8": CHARSET_UTF8,
    "utf8": CHARSET_UTF8,
}

DEFAULT_TIMEOUT = 120.0


class LibreOfficeError(RuntimeError):
    """A soffice conversion failed, timed out or wrote no output."""


# --------------------------------------------------------------------------
# soffice and private profiles
# --------------------------------------------------------------------------


def soffice_path() -> str | None:
    """Path of the soffice executable, or None when LibreOffice is absent.

    ``$LOCALC_SOFFICE`` overrides the PATH lookup.
    """
    env = os.environ.get("LOCALC_SOFFICE")
    if env:
        return env if os.access(env, os.X_OK) else None
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    for p in (
        "/usr/bin/soffice",
        "/usr/lib/libreoffice/program/soffice",
        "/opt/libreoffice/program/soffice",
    ):
        if os.access(p, os.X_OK):
            return p
    return None


def soffice_version() -> str:
    """The output of ``soffice --version``, e.g. 'LibreOffice 7.4.7.2 40(Build:2)'."""
    exe = _require_soffice()
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    return r.stdout.strip()


_LOCK = threading.RLock()
_PROFILES: dict[str, Path] = {}
_PROFILE_ROOT: Path | None = None
_PROFILE_PID = os.getpid()
_ATEXIT = [False]

_XCU_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
    'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
)
_XCU_ITEM = (
    '<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse">'
    "<value>{value}</value></prop></item>\n"
)


def _registry_xcu(locale: str) -> str:
    """registrymodifications.xcu: locale + always recalculate on load."""
    items = []
    if locale:
        items.append(("/org.openoffice.Setup/L10N", "ooSetupSystemLocale", locale))
    # 0 = always recalculate, 1 = never, 2 = prompt
    items.append(("/org.openoffice.Office.Calc/Formula/Load", "OOXMLRecalcMode", "0"))
    items.append(("/org.openoffice.Office.Calc/Formula/Load", "ODFRecalcMode", "0"))
    body = "".join(_XCU_ITEM.format(path=p, name=n, value=v) for p, n, v in items)
    return _XCU_HEAD + body + "</oor:items>\n"


def cleanup() -> None:
    """Delete this process's private profiles (also done automatically at exit)."""
    global _PROFILE_ROOT
    with _LOCK:
        if _PROFILE_ROOT is not None and _PROFILE_PID == os.getpid():
            shutil.rmtree(_PROFILE_ROOT, ignore_errors=True)
        _PROFILE_ROOT = None
        _PROFILES.clear()


def _sweep_stale_profiles() -> None:
    """Remove profiles left by dead processes (atexit does not run in e.g.
    multiprocessing pool workers or after SIGKILL)."""
    tmp = Path(tempfile.gettempdir())
    for d in tmp.glob("localc-*-*"):
        try:
            pid = int(d.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except PermissionError:
            pass


def _profile_dir(locale: str) -> Path:
    """This process's private LibreOffice profile for ``locale`` (made once)."""
    global _PROFILE_ROOT, _PROFILE_PID
    with _LOCK:
        if _PROFILE_PID != os.getpid():  # forked child: never share a profile
            _PROFILE_ROOT, _PROFILE_PID = None, os.getpid()
            _PROFILES.clear()
        if locale in _PROFILES:
            return _PROFILES[locale]
        if _PROFILE_ROOT is None:
            _sweep_stale_profiles()
            _PROFILE_ROOT = Path(tempfile.mkdtemp(prefix=f"localc-{os.getpid()}-"))
            if not _ATEXIT[0]:
                atexit.register(cleanup)
                _ATEXIT[0] = True
        prof = _PROFILE_ROOT / f"profile-{locale or 'system'}"
        (prof / "user").mkdir(parents=True, exist_ok=True)
        (prof / "user" / "registrymodifications.xcu").write_text(_registry_xcu(locale), "utf-8")
        _PROFILES[locale] = prof
        return prof


def _require_soffice() -> str:
    exe = soffice_path()
    if exe is None:
        raise LibreOfficeError("soffice not found: apt-get install -y libreoffice-calc-nogui")
    return exe


# --------------------------------------------------------------------------
# Generic conversion
# --------------------------------------------------------------------------


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    # New session, so that on timeout the whole group (the soffice script,
    # oosplash and soffice.bin) is killed, not only the shell wrapper.
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as error:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        raise LibreOfficeError(
            f"soffice timed out after {timeout}s: {args}\nstdout: {out}\nstderr: {err}"
        ) from error
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _clean_stderr(err: str) -> str:
    return "\n".join(ln for ln in err.splitlines() if "failed to launch javaldx" not in ln)


def convert_many(
    srcs: Sequence[Path | str],
    out_dir: Path | str,
    target: str,
    *,
    infilter: str | None = None,
    outfilter_options: str | None = None,
    locale: str = "fr-FR",
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Path]:
    """Convert several files in ONE soffice run (saves ~1.5 s per extra file).

    ``target`` is what follows ``--convert-to``: an extension ("xlsx", "csv")
    optionally followed by ``:FilterName`` and ``:options``. If
    ``outfilter_options`` is given and ``target`` is a bare extension, the
    matching filter name is added for you, e.g. ``convert(.., "csv",
    outfilter_options="59,34,1,1")``. ``infilter`` is the full
    ``--infilter`` value ("Text - txt - csv (StarCalc):59,34,76,...").
    Output files are ``out_dir/<src stem>.<ext>``; existing ones are replaced.
    Returns them in the order of ``srcs``.
    """
    exe = _require_soffice()
    srcs = [Path(s).resolve() for s in srcs]
    if not srcs:
        return []
    for s in srcs:
        if not s.is_file():
            raise LibreOfficeError(f"source file not found: {s}")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)

    ext = target.split(":", 1)[0]
    if outfilter_options is not None:
        if ":" in target:
            raise ValueError("give outfilter_options or a full target, not both")
        name = {"csv": CSV_FILTER, "xlsx": XLSX_FILTER}.get(ext.lower())
        if name is None:
            raise ValueError(f"no default filter for extension {ext!r}")
        target = f"{ext}:{name}:{outfilter_options}"

    outs = [out_dir / f"{s.stem}.{ext}" for s in srcs]
    for s, o in zip(srcs, outs, strict=True):
        if o == s:
            raise ValueError(f"output would overwrite its source: {s}")
    if len(set(outs)) != len(outs):
        raise ValueError("two sources have the same stem; outputs would clash")

    with _LOCK:  # one soffice per profile at a time
        prof = _profile_dir(locale)
        for o in outs:
            if o.exists():
                o.unlink()
        args = [
            exe,
            "--headless",
            "--invisible",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            "--nofirststartwizard",
            f"-env:UserInstallation={prof.as_uri()}",
        ]
        if infilter:
            args.append(f"--infilter={infilter}")
        args += ["--convert-to", target, "--outdir", str(out_dir)]
        args += [str(s) for s in srcs]
        r = _run(args, timeout)

    err = _clean_stderr(r.stderr)
    missing = [o for o in outs if not o.is_file()]
    if r.returncode != 0 or "Error:" in err or "Error:" in r.stdout or missing:
        raise LibreOfficeError(
            f"soffice conversion failed (rc={r.returncode}, missing={missing})\n"
            f"command: {args}\nstdout: {r.stdout}\nstderr: {err}"
        )
    return outs


def convert(
    src: Path | str,
    out_dir: Path | str,
    target: str,
    *,
    infilter: str | None = None,
    outfilter_options: str | None = None,
    locale: str = "fr-FR",
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Convert one file with soffice; return ``out_dir/<src stem>.<ext>``.

    See ``convert_many`` for the meaning of the arguments. ``locale`` selects
    the private profile's locale ("fr-FR" by default; "" = system locale).
    Raises ``LibreOfficeError`` with soffice's stdout/stderr on failure.
    """
    return convert_many(
        [src],
        out_dir,
        target,
        infilter=infilter,
        outfilter_options=outfilter_options,
        locale=locale,
        timeout=timeout,
    )[0]


# --------------------------------------------------------------------------
# CSV filter option string
# --------------------------------------------------------------------------


def _b(v: bool) -> str:
    return "true" if v else "false"


def csv_filter_options(
    *,
    sep: str = ";",
    quote: str = '"',
    charset: str = CHARSET_UTF8,
    first_line: int = 1,
    column_formats: Mapping[int, int] | None = None,
    language: int = LANG_FR,
    quoted_as_text: bool = False,
    detect_special_numbers: bool = True,
    save_as_shown: bool = True,
    save_formulas: bool = False,
    trim_spaces: bool = False,
    sheet: int = 0,
    evaluate_formulas: bool = False,
    quote_all_text: bool | None = None,
) -> str:
    """Build the options of the "Text - txt - csv (StarCalc)" filter.

    Tokens (1-based, comma separated), as read by LibreOffice 7.4:
      1 field separator(s) as ASCII codes ("59" = ;)   2 text delimiter (34 = ")
      3 charset (76 = UTF-8, 1 = Windows-1252)        4 first line to import
      5 column formats "col/fmt/col/fmt" (2 = Text)   6 language (1036 = fr-FR)
      7 import: quoted field as text / export: quote all text cells
      8 import: detect special numbers (dates, times, %, scientific, VRAI/FAUX)
      9 export: save cell contents as shown           10 export: save formulas
     11 import: trim spaces                           12 export: sheet (0 = first)
     13 import: evaluate formulas (default TRUE when the token is absent!)
    ``quote_all_text`` is an alias of ``quoted_as_text`` for export strings.
    """
    if quote_all_text is not None:
        quoted_as_text = quote_all_text
    seps = "/".join(str(ord(c)) for c in sep)
    cols = "/".join(f"{c}/{f}" for c, f in sorted((column_formats or {}).items()))
    tokens = [
        seps,
        str(ord(quote)) if quote else "0",
        str(charset),
        str(first_line),
        cols,
        str(language),
        _b(quoted_as_text),
        _b(detect_special_numbers),
        _b(save_as_shown),
        _b(save_formulas),
        _b(trim_spaces),
        str(sheet),
        _b(evaluate_formulas),
    ]
    return ",".join(tokens)


def _fr_csv_infilter(charset: str, text_columns: Iterable[int], evaluate_formulas: bool) -> str:
    opts = csv_filter_options(
        charset=charset,
        column_formats={c: COL_TEXT for c in text_columns},
        language=LANG_FR,
        detect_special_numbers=True,
        evaluate_formulas=evaluate_formulas,
    )
    return f"{CSV_FILTER}:{opts}"


def _fr_csv_outfilter(charset: str) -> str:
    return csv_filter_options(
        charset=charset, language=LANG_FR, quote_all_text=False, save_as_shown=True
    )


def _deliver(produced: Path, out: Path | str) -> Path:
    """Move ``produced`` to ``out`` (a file path, or an existing directory)."""
    out = Path(out)
    if out.is_dir():
        out = out / produced.name
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(produced), str(out))
    return out


def _in_workdir(src: Path | str, out: Path | str, target: str, **kw) -> Path:
    # Convert into a fresh temp dir, then move: no clash with src or others.
    parent = Path(out) if Path(out).is_dir() else Path(out).parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".localc-", dir=parent) as d:
        produced = convert(src, d, target, **kw)
        return _deliver(produced, out)


# --------------------------------------------------------------------------
# Helpers for the French back-office round trip
# --------------------------------------------------------------------------


def csv_to_xlsx(
    src_csv: Path | str,
    out: Path | str,
    *,
    text_columns: Iterable[int] = (),
    charset: str = CHARSET_UTF8,
    evaluate_formulas: bool = False,
    locale: str = "fr-FR",
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Open a French CSV (``;``, ``"``, UTF-8 with or without BOM) and save it as xlsx.

    "12000,50" and "1 500,00" (space or U+00A0 thousands) become numbers,
    "14/02/2002" becomes a date, "vrai"/"faux" become booleans.
    ``text_columns`` (1-based) are imported as Text, which keeps leading zeros
    ("01000", "0612345678"). Cells starting with "=" stay text unless
    ``evaluate_formulas`` is true.
    """
    return _in_workdir(
        src_csv,
        out,
        f"xlsx:{XLSX_FILTER}",
        infilter=_fr_csv_infilter(charset, text_columns, evaluate_formulas),
        locale=locale,
        timeout=timeout,
    )


def csv_resave_cp1252(
    src_csv: Path | str,
    out: Path | str,
    *,
    text_columns: Iterable[int] = (),
    charset: str = CHARSET_UTF8,
    evaluate_formulas: bool = False,
    locale: str = "fr-FR",
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Open a French CSV as ``csv_to_xlsx`` does, save it as CSV ``;`` ``"`` Windows-1252.

    This is French Calc's "Enregistrer sous > CSV" with the defaults kept:
    dates as DD/MM/YY (two-digit year!), decimals as "12000,5", booleans
    VRAI/FAUX, LF line ends, no BOM, characters outside cp1252 become "?".
    """
    return _in_workdir(
        src_csv,
        out,
        "csv",
        infilter=_fr_csv_infilter(charset, text_columns, evaluate_formulas),
        outfilter_options=_fr_csv_outfilter(CHARSET_CP1252),
        locale=locale,
        timeout=timeout,
    )


def xlsx_to_csv(
    src_xlsx: Path | str,
    out: Path | str,
    *,
    encoding: str = "cp1252",
    locale: str = "fr-FR",
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Save the first sheet of an xlsx as French CSV (``;``, ``"``, as shown).

    ``encoding``: "cp1252" (charset token 1) or "utf-8" (token 76, no BOM).
    Formulas are recalculated on load; their results are written.
    """
    try:
        charset = _ENCODINGS[encoding.lower()]
    except KeyError:
        raise ValueError(f"encoding must be one of {sorted(_ENCODINGS)}") from None
    return _in_workdir(
        src_xlsx,
        out,
        "csv",
        outfilter_options=_fr_csv_outfilter(charset),
        locale=locale,
        timeout=timeout,
    )


def xlsx_resave(
    src_xlsx: Path | str,
    out: Path | str,
    *,
    locale: str = "fr-FR",
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Open an xlsx in Calc and save it again as xlsx ("Calc MS Excel 2007 XML").

    Note: booleans come back as formula cells ``=TRUE()``/``=FALSE()`` with a
    cached bool (openpyxl: read with ``data_only=True`` to get True/False).
    """
    return _in_workdir(src_xlsx, out, f"xlsx:{XLSX_FILTER}", locale=locale, timeout=timeout)


def read_csv(path: Path | str, *, encoding: str = "cp1252", sep: str = ";") -> list[list[str]]:
    """Read a CSV written by Calc into rows of strings (handles quoted newlines)."""
    with open(path, newline="", encoding=encoding) as f:
        return [row for row in csv.reader(f, delimiter=sep, quotechar='"')]
