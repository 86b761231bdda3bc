"""Observation sessions: questions, a timestamped step log with practise marks, the table."""

from __future__ import annotations

import pytest

from tacit.records import sessions

TABLE_HEAD = "| # | time | important step | key point | reason | practise |"


@pytest.fixture
def maria(run):
    assert run("expert", "add", "Maria Lopez").exit_code == 0


def _body(kb, session_id: str) -> str:
    return sessions.session_path(kb, session_id).read_text().split("\n---\n", 1)[1]


def test_observation_logs_steps_with_practise_marks_and_resumes(kb, run, maria):
    before = "Restart after a trip.\n.\nskip\nskip\nfollow-up ask about the lockout kit\n"
    steps = (
        "Close inlet valve V-12\nTwo full turns, slowly\nA fast close hammers the line\ny\n"
        "Start pump P-3\nListen\n\nn\n"
        "back\n"  # the last step was logged too soon: take it out and log it again
        "Start pump P-3 on low speed\nListen for a gravel sound\n"
        "Cavitation wrecks the impeller\nn\n"
        "Check pressure | gauge PI-7\nSteady at 2.1 bar\nProves the loop is full\nyes\n"
        "done\n"
    )
    result = run(
        "observe",
        "start",
        "--expert",
        "maria-lopez",
        "--task",
        "Restart the cooling loop",
        "--consent",
        "onboarding and training",
        input=before + steps + "pause\n",
    )
    assert result.exit_code == 0, result
    assert "removed step 2: Start pump P-3" in result.stderr
    session = sessions.get(kb, result.stdout.strip())
    assert session.kind == "observation" and session.guide == "job-breakdown"
    assert session.status == "paused" and session.steps_done is True
    assert [(s.n, s.action, s.practise) for s in session.steps] == [
        (1, "Close inlet valve V-12", True),
        (2, "Start pump P-3 on low speed", False),
        (3, "Check pressure | gauge PI-7", True),
    ]
    assert session.steps[0].key_point == "Two full turns, slowly"
    assert session.steps[0].reason == "A fast close hammers the line"
    assert all(s.at is not None and s.at >= 0 for s in session.steps)
    statuses = {a.qid: a.status for a in session.answers}
    assert statuses["before-the-task/q4"] == "follow-up"
    assert statuses["after-the-task/q1"] == "pending"
    assert not any(qid.startswith("steps/") for qid in statuses)  # step prompts are not questions

    body = _body(kb, session.id)
    assert "## Job breakdown: Restart the cooling loop" in body
    rows = body[body.index(TABLE_HEAD) :].splitlines()
    assert rows[2].startswith("| 1 | ") and rows[2].endswith(
        "| Close inlet valve V-12 | Two full turns, slowly | A fast close hammers the line | yes |"
    )
    assert rows[3].endswith(
        "| Start pump P-3 on low speed | Listen for a gravel sound "
        "| Cavitation wrecks the impeller |  |"
    )
    assert "| Check pressure \\| gauge PI-7 |" in rows[4] and rows[4].endswith("| yes |")
    assert "- Step 1: Close inlet valve V-12" in body
    assert "- Step 3: Check pressure | gauge PI-7" in body
    assert "- Step 2:" not in body

    # resume goes on with the questions after the task: the closed step log stays closed
    after = "Gauge steady for ten minutes.\n.\nskip\nOn the training rig first.\n.\nskip\n"
    resumed = run("observe", "resume", session.id, input=after)
    assert resumed.exit_code == 0, resumed
    assert "step 4" not in resumed.stderr
    done = sessions.get(kb, session.id)
    assert done.status == "done" and len(done.steps) == 3
    assert {a.qid: a.text for a in done.answers}[
        "after-the-task/q3"
    ] == "On the training rig first."
    shown = run("session", "show", session.id)
    assert TABLE_HEAD in shown.stdout


def test_observation_answers_file_with_steps(kb, run, maria, tmp_path):
    answers = tmp_path / "walk.yaml"
    answers.write_text(
        "consent: {given: true, by: Maria Lopez, use: training}\n"
        "before-the-task/q1: After every trip.\n"
        "steps:\n"
        "  - {action: Close inlet valve V-12, key_point: Two turns, reason: Avoids hammer,"
        " practise: true, at: 12.5}\n"
        "  - {action: Start pump P-3, at: 40}\n"
    )
    result = run(
        "observe",
        "start",
        "--expert",
        "maria-lopez",
        "--task",
        "Restart the cooling loop",
        "--answers",
        answers,
    )
    assert result.exit_code == 0, result
    session = sessions.get(kb, result.stdout.strip())
    assert session.consent["use"] == "training" and session.steps_done
    assert [(s.n, s.at, s.practise) for s in session.steps] == [(1, 12.5, True), (2, 40.0, False)]
    body = _body(kb, session.id)
    assert "| 1 | 00:00:12 | Close inlet valve V-12 | Two turns | Avoids hammer | yes |" in body
    assert "| 2 | 00:00:40 | Start pump P-3 |  |  |  |" in body

    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - {key_point: no action}\n")
    failed = run("observe", "start", "--expert", "maria-lopez", "--task", "x", "--answers", bad)
    assert failed.exit_code == 1 and "step 1: needs action" in failed.stderr
    assert len(sessions.list_all(kb)) == 1


def test_observe_needs_an_observation_guide_and_the_right_resume(kb, run, maria):
    wrong = run("observe", "start", "--expert", "maria-lopez", "--task", "x", "--guide", "handover")
    assert wrong.exit_code == 1 and "tacit interview start" in wrong.stderr
    started = run(
        "interview",
        "start",
        "--expert",
        "maria-lopez",
        "--guide",
        "handover",
        "--consent",
        "training",
        input="pause\n",
    )
    mixed = run("observe", "resume", started.stdout.strip())
    assert mixed.exit_code == 1 and "tacit interview resume" in mixed.stderr
    assert run("observe", "resume", "no-such-session").exit_code == 1
