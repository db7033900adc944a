"""Output folders: a command writes only into a folder it owns, and cleans up only its own files.

A folder is the program's to write into when it does not exist yet, is empty, or carries the
program's marker (``.yichun-abm.json``, naming the kind of output) for the same kind. Folders
written before the marker existed are recognised by their kind's stamp (a run's
``ensemble.json``, a calibration's ``stamp.json``, ...). Anything else (a foreign folder, ``/``, a
calibration given to ``run --out``) is refused in one line before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path

from model.errors import InputError
from model.yamlio import TMP_TAG, write_json_atomic

MARKER = ".yichun-abm.json"
#: the stamp that identifies a folder of this kind written before the marker existed
_LEGACY_STAMP = {"run": "ensemble.json", "calibration": "stamp.json", "levers": "levers.md",
                 "anchors": "anchors.md", "report": "scenario_report.ipynb"}
#: subfolders the program creates inside its folders (its temporary files may be there)
_OWN_SUBFOLDERS = ("", "replications", "figures", "points", "set_aside", "levers_design",
                   "coalitions", "confirm")


def claim(folder: str | Path, kind: str) -> Path:
    """Check that `folder` may receive output of `kind`, create it and mark it as ours."""
    folder, owner = _checked(folder, kind)
    folder.mkdir(parents=True, exist_ok=True)
    if owner is None:                       # a folder known by its legacy stamp keeps it alone
        write_json_atomic(folder / MARKER, {"kind": kind, "program": "yichun-abm"})
    remove_own_temporaries(folder)
    return folder


def check_folder(folder: str | Path, kind: str) -> Path:
    """Refuse (one line, nothing written) a folder that `kind` may not write into."""
    return _checked(folder, kind)[0]


def _checked(folder: str | Path, kind: str) -> tuple[Path, str | None]:
    """The folder and its owner, once checked (``check_folder``)."""
    folder = Path(folder)
    if folder.is_symlink():
        raise InputError(folder, None, "is a symbolic link; give --out a real folder")
    owner = owner_of(folder)
    if owner is None:
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            what = "is not a folder" if not folder.is_dir() else "holds files this program did not write"
            raise InputError(folder, None, f"{what}; give --out a new or empty folder (or one "
                             f"an earlier `{kind}` wrote)")
    elif owner != kind:
        raise InputError(folder, None, f"holds a {owner}'s output, not a {kind}'s; give --out "
                         "another folder")
    return folder, owner


def owner_of(folder: Path) -> str | None:
    """The kind of output a folder holds, by its marker or legacy stamp; None if not ours."""
    marker = folder / MARKER
    if marker.is_file() and not marker.is_symlink():
        try:
            kind = json.loads(marker.read_text(encoding="utf-8")).get("kind")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            raise InputError(marker, None, "damaged marker; delete the folder or choose another "
                             "--out") from None
        if isinstance(kind, str):
            return kind
        raise InputError(marker, "kind", "damaged marker; delete the folder or choose another --out")
    for kind, stamp in _LEGACY_STAMP.items():
        if (folder / stamp).is_file():
            return kind
    return None


def remove_own_temporaries(folder: Path) -> None:
    """Delete half-written files of an interrupted run: only names this program gives its
    temporary files, only in the folders it creates, never recursively."""
    for sub in _OWN_SUBFOLDERS:
        place = folder / sub
        if not place.is_dir() or place.is_symlink():
            continue
        for stale in place.glob(f".*{TMP_TAG}*.tmp"):
            if stale.is_file() and not stale.is_symlink():
                stale.unlink()
