"""The knowledge base, its discovery, durable writes, the lock, errors and the import guard."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tacit.admin import pending
from tacit.core import fileio, workspace
from tacit.core.errors import LockBusy


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_layout_with_private_permissions(tmp_path, run):
    target = tmp_path / "plant-ops"
    result = run("init", target, "--name", "Plant ops")
    assert result.exit_code == 0, result
    for sub in ("experts", "sessions", "packs", ".tacit"):
        assert (target / sub).is_dir()
        assert _mode(target / sub) == 0o700
    assert _mode(target) == 0o700
    assert _mode(target / "tacit.toml") == 0o600
    assert 'name = "Plant ops"' in (target / "tacit.toml").read_text()
    again = run("init", target)
    assert again.exit_code == 1 and "already" in again.stderr


def test_discovery_order_flag_then_env_then_walk_up(tmp_path, monkeypatch, kb):
    other = workspace.init(tmp_path / "other", "other")
    walked = workspace.init(tmp_path / "walked", "walked")
    deep = walked.root / "experts" / "deeper"
    deep.mkdir()
    monkeypatch.chdir(deep)
    monkeypatch.delenv("TACIT_KB")
    assert workspace.current().root == walked.root
    monkeypatch.setenv("TACIT_KB", str(kb.root))
    assert workspace.current().root == kb.root
    workspace.set_override(other.root)
    assert workspace.current().root == other.root


def test_outside_any_kb_says_how_to_make_one(tmp_path, monkeypatch, run):
    monkeypatch.delenv("TACIT_KB")
    monkeypatch.chdir(tmp_path)
    result = run("expert", "list")
    assert result.exit_code == 1
    assert "tacit init" in result.stderr
    assert "Traceback" not in result.output


def test_atomic_write_keeps_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "records" / "record.md"
    fileio.atomic_write(target, "old content\n")

    def crash(*_args):
        raise OSError("disk pulled out")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        fileio.atomic_write(target, "new content that never lands\n")
    assert target.read_text() == "old content\n"
    assert [p.name for p in target.parent.iterdir()] == ["record.md"]


def test_atomic_write_survives_sigkill_of_the_writer(tmp_path):
    target = tmp_path / "record.txt"
    fileio.atomic_write(target, "A" * 100)
    code = (
        "import os, signal\n"
        "from pathlib import Path\n"
        "import tacit.core.fileio as f\n"
        "real = os.fsync\n"
        "def die(fd):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "os.fsync = die\n"
        f"f.atomic_write(Path({str(target)!r}), 'B' * 5_000_000)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert proc.returncode == -9
    assert target.read_text() == "A" * 100


def test_lock_refuses_second_writer(kb):
    held = threading.Event()
    release = threading.Event()

    def holder():
        with pending.writer_lock(kb):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    try:
        with pytest.raises(LockBusy, match="another tacit command"):
            with pending.writer_lock(kb, timeout=0.2):
                pass
    finally:
        release.set()
        thread.join()
    with pending.writer_lock(kb, timeout=0.2):
        pass


def test_lock_busy_is_a_one_line_error_from_the_cli(kb, run):
    code = (
        "import time, sys\n"
        "from tacit.core import workspace\nfrom tacit.admin import pending\n"
        "ws = workspace.current()\n"
        "with pending.writer_lock(ws):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(20)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        result = run("expert", "add", "Sam Okafor")
        assert result.exit_code == 1
        assert "another tacit command" in result.stderr
        assert "Traceback" not in result.output
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(
    "content, expected",
    [
        ('name = "x"\n[models\ndevice = "cpu"\n', "line 2"),
        ('name = "x"\n[models]\ndevice = "gpu"\n', "line 3: models.device"),
        ('name = "x"\n\n[index]\nchunk_words = "many"\n', "line 4: index.chunk_words"),
        ('name = "x"\nfavourite_colour = "blue"\n', "line 2: favourite_colour: unknown"),
    ],
)
def test_broken_config_names_key_and_line(kb, run, content, expected):
    (kb.root / "tacit.toml").write_text(content)
    result = run("expert", "list")
    assert result.exit_code == 1, result
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_template_is_made_from_the_settings_models(tmp_path):
    """A new tacit.toml holds every setting at its default, read back as the same settings;
    nothing is written twice, so the template cannot drift from what `load` accepts."""
    import tomllib

    from tacit.core import config
    from tacit.core.errors import TacitError

    text = config.template('Plant "North" ops')
    assert tomllib.loads(text) == {**config.defaults(), "name": 'Plant "North" ops'}
    written = tmp_path / "tacit.toml"
    written.write_text(text)
    assert config.load(written).data == {**config.defaults(), "name": 'Plant "North" ops'}
    for section, keys in config.defaults().items():
        for key in keys if isinstance(keys, dict) else ():
            assert f"\n{key} = " in text, f"{section}.{key} is missing from the template"
    assert "relevance_threshold = 0.0" in text and "# best cosine below which" in text
    bad = text.replace("[index]\n", "[index]\nchunk_wrds = 90\n")
    written.write_text(bad)
    line = bad.splitlines().index("chunk_wrds = 90") + 1
    with pytest.raises(TacitError, match=rf"line {line}: index.chunk_wrds: unknown setting"):
        config.load(written)


def test_broken_expert_front_matter_names_file_and_line(kb, run):
    assert run("expert", "add", "Maria Lopez", "--role", "Shift lead").exit_code == 0
    path = kb.root / "experts" / "maria-lopez.md"
    path.write_text("---\nname: Maria Lopez\nrole: [unclosed\n---\nnotes\n")
    result = run("expert", "show", "maria-lopez")
    assert result.exit_code == 1
    assert "maria-lopez.md" in result.stderr and "line 3" in result.stderr
    assert "Traceback" not in result.output


def test_expert_add_list_show_edit(kb, run):
    result = run(
        "expert",
        "add",
        "María López",
        "--role",
        "Shift lead",
        "--team",
        "Ops",
        "--leaving-on",
        "2027-01-31",
        "--topic",
        "pumps",
        "--topic",
        "alarms",
        "--position-risk",
        "5",
    )
    assert result.exit_code == 0, result
    assert result.stdout.strip() == "maria-lopez"
    assert _mode(kb.root / "experts" / "maria-lopez.md") == 0o600
    listed = json.loads(run("expert", "list", "--json").stdout)
    assert listed[0]["name"] == "María López" and listed[0]["topics"] == ["pumps", "alarms"]
    assert run("expert", "edit", "maria-lopez", "--role", "Operations lead").exit_code == 0
    shown = json.loads(run("expert", "show", "maria-lopez", "--json").stdout)
    assert shown["role"] == "Operations lead" and shown["leaving_on"] == "2027-01-31"
    assert run("expert", "show", "nobody").exit_code == 1
    duplicate = run("expert", "add", "Maria Lopez")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.stderr


def test_importing_the_cli_loads_no_heavy_library():
    code = (
        "import sys, tacit.cli\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faster_whisper', 'chromadb',"
        " 'ctranslate2', 'bm25s', 'transformers', 'numpy') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


def test_version_and_usage_exit_codes(run):
    assert run("--version").stdout.startswith("tacit ")
    assert run("expert", "add").exit_code == 2


def test_doctor_reports_missing_model_as_failure(kb, run):
    toml = kb.root / "tacit.toml"
    toml.write_text(toml.read_text().replace('speech = ""', 'speech = "/nonexistent/whisper"'))
    result = run("doctor", "--json")
    assert result.exit_code == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["speech model"]["ok"] is False
    assert checks["embedding model"]["ok"] is True


def test_expert_edit_without_flags_opens_the_editor(kb, run, monkeypatch):
    assert run("expert", "add", "Maria Lopez", "--role", "Shift lead").exit_code == 0
    monkeypatch.setenv("EDITOR", "sed -i s/Shift/Night/")
    assert run("expert", "edit", "maria-lopez").exit_code == 0
    assert json.loads(run("expert", "show", "maria-lopez", "--json").stdout)["role"] == "Night lead"
    monkeypatch.setenv("EDITOR", "sed -i s/^role:.*/role:[broken/")
    broken = run("expert", "edit", "maria-lopez")
    assert broken.exit_code == 1 and "maria-lopez.md" in broken.stderr


def test_interrupt_exits_130(run, monkeypatch):
    from tacit.records import experts

    def interrupted(_ws):
        raise KeyboardInterrupt

    monkeypatch.setattr(experts, "list_all", interrupted)
    result = run("expert", "list")
    assert result.exit_code == 130


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Ольга Петрова", "olga-petrova"),
        ("Søren Ærø", "soren-aero"),
        ("王小明", "wang-xiao-ming"),
        ("María López", "maria-lopez"),
        ("Dave O'Brien, Jr.", "dave-o-brien-jr"),
    ],
)
def test_expert_names_in_any_script_get_readable_slugs(kb, run, name, slug):
    result = run("expert", "add", name, "--json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["slug"] == slug
    assert (kb.experts_dir / f"{slug}.md").is_file()
