"""Settings reach a real aria2c: live through changeGlobalOption, or by a restart.

Every assertion about aria2 reads ``aria2.getGlobalOption`` through our
own RPC client, never the app's word for it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop.settings_dialog import SettingsDialog
from support.app_world import HERMETIC_OPTIONS, WAIT_MS, AppWorld


def apply(qtbot: Any, prefs: Any, new: Any) -> list[str]:
    results: list[list[str]] = []
    prefs.apply(new, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT_MS)
    return results[0]


def test_live_changes_reach_aria2_and_survive_a_restart(
    qtbot: Any, world: AppWorld, tmp_path: Path
) -> None:
    c = world.controller()
    prefs = world.preferences(c)
    pid = c.engine.pid
    other_dir = tmp_path / "elsewhere"
    new = replace(
        prefs.settings,
        download_dir=str(other_dir),
        max_concurrent_downloads=3,
        max_connection_per_server=4,
        split=6,
        download_limit=2_000_000,
        upload_limit=300_000,
        seed_ratio=2.5,
        seed_time=90.0,
        user_agent="AriaTrayTest/1.0",
        proxy="http://127.0.0.1:3128",
        extra_options={**prefs.settings.extra_options, "max-tries": "7"},
    )
    assert prefs.restart_reasons(new) == []
    assert apply(qtbot, prefs, new) == []

    expected = {
        "dir": str(other_dir),
        "max-concurrent-downloads": "3",
        "max-connection-per-server": "4",
        "split": "6",
        "max-overall-download-limit": "2000000",
        "max-overall-upload-limit": "300000",
        "seed-ratio": "2.5",
        "seed-time": "90.0",
        "user-agent": "AriaTrayTest/1.0",
        "all-proxy": "http://127.0.0.1:3128/",
        "max-tries": "7",
    }
    options = world.probe(c).get_global_option()
    assert {k: options.get(k) for k in expected} == expected
    assert c.engine.pid == pid, "live changes must not restart aria2c"

    # The settings file has them: a fresh start (a new app) runs with them.
    world.stop(c)
    again = world.controller()
    assert again.engine.pid != pid
    options = world.probe(again).get_global_option()
    assert {k: options.get(k) for k in expected} == expected
    assert world.store.load() == prefs.settings


def test_clearing_the_proxy_is_live_and_a_read_at_start_option_restarts(
    qtbot: Any, world: AppWorld
) -> None:
    c = world.controller()
    prefs = world.preferences(c)
    assert apply(qtbot, prefs, replace(prefs.settings, proxy="http://127.0.0.1:3128")) == []
    assert apply(qtbot, prefs, replace(prefs.settings, proxy="")) == []
    assert world.probe(c).get_global_option()["all-proxy"] == ""

    pid = c.engine.pid
    new = replace(
        prefs.settings, extra_options={**prefs.settings.extra_options, "disk-cache": "8M"}
    )
    reasons = prefs.restart_reasons(new)
    assert [(r.kind, r.option) for r in reasons] == [("not-live", "disk-cache")]
    with qtbot.waitSignal(c.engine.ready, timeout=WAIT_MS):
        assert apply(qtbot, prefs, new) == []
    assert c.engine.pid not in (None, pid)
    assert world.probe(c).get_global_option()["disk-cache"] == str(8 * 1024 * 1024)


def test_a_value_aria2_refuses_is_reported_and_nothing_is_saved(
    qtbot: Any, world: AppWorld
) -> None:
    c = world.controller()
    prefs = world.preferences(c)
    before = world.store.load()
    bad = replace(prefs.settings, extra_options={**prefs.settings.extra_options, "max-tries": "x"})
    problems = apply(qtbot, prefs, bad)
    assert problems and "max-tries" in problems[0]
    assert world.store.load() == before
    assert c.engine_settings().extra_options.get("max-tries") is None
    assert world.probe(c).get_global_option()["max-tries"] == "5"


def test_settings_dialog_applies_live_and_rejects_bad_extra_options(
    qtbot: Any, world: AppWorld
) -> None:
    c = world.controller()
    prefs = world.preferences(c)
    dialog = SettingsDialog(prefs)
    qtbot.addWidget(dialog)
    dialog.show()

    # Forbidden and unknown options: messages, nothing applied, the dialog stays.
    hermetic = dialog.extra_edit.toPlainText()
    dialog.extra_edit.setPlainText(hermetic + "rpc-listen-all=true\nmax-conection-per-server=4\n")
    dialog.down_limit.setValue(750)
    dialog.apply()
    qtbot.waitUntil(lambda: dialog.extra_problems.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not dialog._applying, timeout=WAIT_MS)
    text = dialog.extra_problems.text()
    first = len(hermetic.splitlines()) + 1
    assert f"Line {first}:" in text and "rpc-listen-all" in text and "cannot be set" in text
    assert (
        f"Line {first + 1}:" in text
        and "max-conection-per-server" in text
        and "not an option" in text
    )
    assert dialog.isVisible() and dialog.tabs.currentIndex() == 3
    assert world.probe(c).get_global_option()["max-overall-download-limit"] == "0"

    # Fixed: OK applies live and closes.
    dialog.extra_edit.setPlainText(hermetic + "max-tries=9\n")
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        dialog.apply()
    options = world.probe(c).get_global_option()
    assert options["max-overall-download-limit"] == "750000"
    assert options["max-tries"] == "9"
    saved = world.store.load()
    assert saved.download_limit == 750_000
    assert saved.extra_options == {**HERMETIC_OPTIONS, "max-tries": "9"}
    cache = world.paths.engine_dir / "aria2c-options.json"
    assert cache.is_file(), "the option list is cached in the app home"


def test_settings_dialog_asks_before_a_restart(qtbot: Any, world: AppWorld) -> None:
    c = world.controller()
    prefs = world.preferences(c)
    dialog = SettingsDialog(prefs)
    qtbot.addWidget(dialog)
    asked: list[list[Any]] = []
    dialog.confirm_restart = lambda reasons: bool(asked.append(reasons))  # says no
    dialog.extra_edit.setPlainText(dialog.extra_edit.toPlainText() + "disk-cache=4M\n")
    dialog.apply()
    qtbot.waitUntil(lambda: bool(asked), timeout=WAIT_MS)
    assert [(r.kind, r.option) for r in asked[0]] == [("not-live", "disk-cache")]
    assert not dialog._applying and world.store.load().extra_options.get("disk-cache") is None

    dialog.confirm_restart = lambda reasons: True
    pid = c.engine.pid
    with qtbot.waitSignal(c.engine.ready, timeout=WAIT_MS):
        dialog.apply()
    assert c.engine.pid != pid
    assert world.probe(c).get_global_option()["disk-cache"] == str(4 * 1024 * 1024)


def test_tray_speed_limit_is_saved_only_after_aria2_takes_it(qtbot: Any, world: AppWorld) -> None:
    """The tray's limit goes the Settings way: applied once, saved only if aria2 accepts it."""
    c = world.controller()
    prefs = world.preferences(c)
    before = world.store.load()
    problems: list[list[str]] = []
    prefs.set_download_limit(10**20, problems.append)  # more than aria2 takes
    qtbot.waitUntil(lambda: bool(problems), timeout=WAIT_MS)
    assert problems[0] and "max-overall-download-limit" in problems[0][0]
    assert world.store.load() == before, "a refused limit was saved"
    assert c.engine_settings().max_overall_download_limit == before.download_limit
    assert world.probe(c).get_global_option()["max-overall-download-limit"] == "0"

    problems.clear()
    prefs.set_download_limit(500_000, problems.append)
    qtbot.waitUntil(lambda: bool(problems), timeout=WAIT_MS)
    assert problems == [[]]
    assert world.probe(c).get_global_option()["max-overall-download-limit"] == "500000"
    assert world.store.load().download_limit == 500_000


def test_a_bad_value_in_a_restart_change_never_reaches_the_engine(
    qtbot: Any, world: AppWorld
) -> None:
    """max-tries=abc next to a read-at-start option: checked by the binary, refused."""
    c = world.controller()
    prefs = world.preferences(c)
    before = world.store.load()
    dialog = SettingsDialog(prefs)
    qtbot.addWidget(dialog)
    asked: list[Any] = []
    dialog.confirm_restart = lambda reasons: bool(asked.append(reasons)) or True
    dialog.extra_edit.setPlainText(
        dialog.extra_edit.toPlainText() + "disk-cache=4M\nmax-tries=abc\n"
    )
    pid = c.engine.pid
    dialog.show()
    dialog.apply()
    qtbot.waitUntil(lambda: bool(asked) and not dialog._applying, timeout=WAIT_MS)
    qtbot.wait(500)  # a restart, if one began, would show now
    assert dialog.isVisible(), "the dialog stays open with the reason"
    assert "max-tries" in dialog.status.text() and "abc" in dialog.status.text()
    assert dialog.tabs.currentIndex() == 3  # Advanced, where the extra options are
    assert c.engine.state == "ready" and c.engine.pid == pid
    assert world.store.load() == before
    assert "max-tries" not in c.engine_settings().extra_options
    assert world.probe(c).get_global_option()["max-tries"] == "5"

    # A value it takes goes through, by the restart.
    dialog.extra_edit.setPlainText(
        before_text := dialog.extra_edit.toPlainText().replace("max-tries=abc", "max-tries=7")
    )
    assert "max-tries=7" in before_text
    with qtbot.waitSignal(c.engine.ready, timeout=WAIT_MS):
        dialog.apply()
    assert c.engine.pid != pid
    assert world.probe(c).get_global_option()["max-tries"] == "7"


def test_a_bad_value_applied_while_no_aria2c_runs_is_refused_by_the_binary(
    qtbot: Any, world: AppWorld
) -> None:
    """No aria2 to ask (not started yet): the binary's dry run decides, nothing is saved."""
    c = world.controller(start=False)
    prefs = world.preferences(c)
    before = world.store.load()
    bad = replace(prefs.settings, extra_options={**before.extra_options, "max-tries": "abc"})
    problems = apply(qtbot, prefs, bad)
    assert problems and "max-tries" in problems[0]
    assert world.store.load() == before
    assert "max-tries" not in c.engine_settings().extra_options

    good = replace(prefs.settings, extra_options={**before.extra_options, "max-tries": "3"})
    assert apply(qtbot, prefs, good) == []
    assert world.store.load().extra_options["max-tries"] == "3"
    with qtbot.waitSignal(c.engine.ready, timeout=WAIT_MS):
        c.start()
    assert world.probe(c).get_global_option()["max-tries"] == "3"
