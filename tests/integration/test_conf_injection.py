"""Settings values cannot inject lines into aria2c's private conf file (issue 8, item 13).

Every value reaches ``aria2.conf`` as ``key=value`` on one line; a newline
in a value would start a line of its own choosing, such as a download hook.
These run the real engine (a real aria2c when it starts) with such values.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aria2_core.config import EngineSettings
from aria2_core.paths import AppPaths
from desktop.engine import Engine, EngineState
from desktop.tasks import TaskRunner
from support.programs import script_program


@pytest.fixture
def paths() -> Iterator[AppPaths]:
    home = Path(tempfile.mkdtemp(prefix="at-inj-"))
    p = AppPaths.for_home(home)
    p.ensure()
    yield p
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def start(qtbot, paths: AppPaths) -> Iterator:  # type: ignore[no-untyped-def]
    """Start an engine on ``settings``; returns once it is ready or has failed."""
    made: list[tuple[Engine, TaskRunner]] = []

    def run(settings: EngineSettings) -> Engine:
        tasks = TaskRunner()
        engine = Engine(paths, settings, tasks)
        made.append((engine, tasks))
        engine.start()
        qtbot.waitUntil(
            lambda: engine.state in (EngineState.READY, EngineState.FAILED), timeout=15_000
        )
        return engine

    yield run
    for engine, tasks in made:
        engine.stop_now()
        tasks.shutdown()


def _hook(folder: Path) -> tuple[Path, Path]:
    marker = folder / "hook-ran"
    script = script_program(folder, "x", f"open({str(marker)!r}, 'w').close()\n")
    return script, marker


@pytest.mark.parametrize(
    "field", ["user_agent", "all_proxy", "extra_value", "download_dir", "extra_key"]
)
def test_newline_in_a_setting_never_reaches_the_conf_file(  # type: ignore[no-untyped-def]
    qtbot, paths: AppPaths, start, payload_factory, field: str
) -> None:
    script, marker = _hook(paths.home)
    injected = f"x\non-download-complete={script}"
    settings = EngineSettings(download_dir=paths.home / "dl")
    if field == "user_agent":
        settings.user_agent = injected
    elif field == "all_proxy":
        settings.all_proxy = injected
    elif field == "extra_value":
        settings.extra_options = {"referer": injected}
    elif field == "extra_key":
        settings.extra_options = {f"referer=x\ron-download-complete={script}\rx": "1"}
    else:
        settings.download_dir = paths.home / injected
    engine = start(settings)
    if engine.state == EngineState.READY:  # today's main: show that the hook really runs
        client = engine.client
        assert client is not None
        gid = client.add_uri([payload_factory("p.bin", 1000).url], {"dir": str(paths.home)})
        qtbot.waitUntil(lambda: client.tell_status(gid, ["status"])["status"] != "active")
        qtbot.wait(500)  # the hook, if injected, runs now and leaves its marker
    assert engine.state == EngineState.FAILED
    assert "control character" in engine.error
    conf = paths.conf_file.read_text() if paths.conf_file.exists() else ""
    assert "on-download-complete" not in conf
    assert not marker.exists()


def test_tab_and_escape_characters_are_refused_too(paths: AppPaths, start) -> None:  # type: ignore[no-untyped-def]
    settings = EngineSettings(download_dir=paths.home / "dl", user_agent="ua\x1b[31m\tx")
    engine = start(settings)
    assert engine.state == EngineState.FAILED
    assert "user-agent" in engine.error


def test_applying_a_setting_with_a_line_break_is_refused_and_keeps_the_old(qtbot, world) -> None:  # type: ignore[no-untyped-def]
    """The live path: the settings are refused with a message, nothing is changed."""
    from dataclasses import replace

    controller = world.controller()
    before = controller.engine_settings()
    answers: list[list[str]] = []
    bad = replace(before, user_agent="ua\non-download-complete=/x.sh")
    controller.apply_engine_settings(bad, answers.append)
    qtbot.waitUntil(lambda: bool(answers))
    assert "control character" in answers[0][0]
    assert controller.engine_settings() == before
    assert world.probe(controller).get_global_option()["user-agent"] != bad.user_agent
