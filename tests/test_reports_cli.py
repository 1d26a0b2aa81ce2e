"""`python -m mtasts reports`: the verdict on enforce, the stack advice, the JSON shape, exit status."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from mtasts.__main__ import main
from tests.twin.reportmail import CURRENT_POLICY, days_ago, gz, make_report, report_mail

START = days_ago(30)  # `reports` reads by the clock: it refuses reports years old
STACK = """config:
  mta-sts:domain: example.com
  mta-sts:mode: {mode}
  mta-sts:tlsRpt:
    - mailto:tls-reports@example.com
"""


def write_days(folder: Path, days: int, *, style: str = "google", start: date = START, **report: Any) -> None:
    folder.mkdir(exist_ok=True)
    for offset in range(days):
        document = make_report(start + timedelta(days=offset), style=style, **report)
        (folder / f"{document['report-id']}.eml").write_bytes(report_mail(document, style))


def clean_fortnight(folder: Path) -> None:
    write_days(folder, 14, style="google")
    write_days(folder, 14, style="microsoft")


def reports(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["reports", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status, out, _ = reports(capsys, *argv, "--json")
    return status, json.loads(out)


def stack_dir(tmp_path: Path, mode: str = "testing", name: str = "prod") -> Path:
    (tmp_path / f"Pulumi.{name}.yaml").write_text(STACK.format(mode=mode))
    return tmp_path


def test_two_weeks_from_two_organizations_without_failures_is_ready(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_fortnight(tmp_path / "mail")
    status, document = as_json(capsys, str(tmp_path / "mail"))
    entry = document["domains"]["example.com"]
    assert status == 0 and entry["enforce_ready"] is True
    assert entry["reports"] == 28 and entry["successful"] == 2800 and entry["failed"] == 0
    assert (entry["first"], entry["last"]) == (str(START), str(START + timedelta(days=13)))
    assert entry["organizations"] == ["Google Inc.", "Microsoft Corporation"]
    assert "14 days of reports from 2 organizations" in entry["why"]


def test_the_json_has_every_key_the_command_promises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_days(tmp_path / "mail", 2, failures={"certificate-expired": 3})
    _, document = as_json(capsys, str(tmp_path / "mail"))
    assert {"domains", "rejected"} <= set(document)
    entry = document["domains"]["example.com"]
    promised = {
        "reports",
        "successful",
        "failed",
        "failures",
        "organizations",
        "first",
        "last",
        "enforce_ready",
        "why",
        "enforce_reasons",
        "enforce_refused",
    }
    assert promised <= set(entry)
    assert "; ".join(entry["enforce_reasons"]) == entry["why"] and len(entry["enforce_reasons"]) > 1
    assert entry["failures"] == {"certificate-expired": 6} and entry["enforce_refused"] == 0  # testing
    assert entry["failures_by_mx"] == {"mail.protonmail.ch": 6}
    assert entry["failures_by_sending_ip"] == {"192.0.2.25": 6}


def test_thirteen_days_are_not_enough_and_the_flag_lowers_the_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_days(tmp_path / "mail", 13, style="google")
    write_days(tmp_path / "mail", 13, style="microsoft")
    _, document = as_json(capsys, str(tmp_path / "mail"))
    assert document["domains"]["example.com"]["enforce_ready"] is False
    assert "span 13 days" in document["domains"]["example.com"]["why"]
    _, document = as_json(capsys, str(tmp_path / "mail"), "--min-days", "13")
    assert document["domains"]["example.com"]["enforce_ready"] is True


def test_one_organization_is_not_enough_and_the_flag_lowers_the_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_days(tmp_path / "mail", 20)
    _, document = as_json(capsys, str(tmp_path / "mail"))
    why = document["domains"]["example.com"]["why"]
    assert "1 organization reported applying the sts policy (Google Inc.)" in why
    _, document = as_json(capsys, str(tmp_path / "mail"), "--min-reporters", "1")
    assert document["domains"]["example.com"]["enforce_ready"] is True


def test_a_failed_session_under_sts_blocks_enforce_and_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_fortnight(tmp_path / "mail")
    write_days(
        tmp_path / "mail",
        1,
        style="json",
        start=START + timedelta(days=5),
        failures={"sts-webpki-invalid": 2},
    )
    status, document = as_json(capsys, str(tmp_path / "mail"))
    entry = document["domains"]["example.com"]
    assert status == 1 and entry["enforce_ready"] is False
    assert "2 sessions failed under an sts policy (sts-webpki-invalid 2)" in entry["why"]


def test_failures_under_dane_do_not_block_enforce_but_still_fail_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_fortnight(tmp_path / "mail")
    write_days(tmp_path / "mail", 1, style="json", policy_type="tlsa", failures={"tlsa-invalid": 4})
    status, document = as_json(capsys, str(tmp_path / "mail"))
    assert status == 1
    assert document["domains"]["example.com"]["enforce_ready"] is True
    assert document["domains"]["example.com"]["failures"] == {"tlsa-invalid": 4}


def test_reports_where_no_sender_saw_an_sts_policy_say_nothing_about_enforce(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_days(tmp_path / "mail", 14, style="google", policy_type="no-policy-found")
    write_days(tmp_path / "mail", 14, style="microsoft", policy_type="no-policy-found")
    _, document = as_json(capsys, str(tmp_path / "mail"))
    assert "no sender reported applying an sts policy" in document["domains"]["example.com"]["why"]


def test_since_restarts_the_count_after_a_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_days(tmp_path / "mail", 1, style="json", failures={"certificate-expired": 9})
    clean_fortnight(tmp_path / "mail")
    since = str(START + timedelta(days=1))
    status, document = as_json(capsys, str(tmp_path / "mail"), "--since", since, "--min-days", "13")
    assert status == 0 and document["domains"]["example.com"]["enforce_ready"] is True
    assert document["left_out"] == 3  # each organization's first day, Microsoft's ending at midnight too


def test_with_a_testing_stack_that_is_ready_it_prints_the_exact_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_fortnight(tmp_path / "mail")
    project = stack_dir(tmp_path)
    status = main(["--project-dir", str(project), "reports", str(tmp_path / "mail"), "--stack", "prod"])
    out = capsys.readouterr().out
    assert status == 0
    assert "\n    scripts/pulumi config set mode enforce --stack prod\n" in out
    assert "switch stack prod from testing to enforce" in out


def test_with_a_stack_that_is_not_ready_it_says_what_stands_in_the_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_days(tmp_path / "mail", 3)
    project = stack_dir(tmp_path)
    status = main(
        ["--project-dir", str(project), "reports", str(tmp_path / "mail"), "--stack", "prod", "--json"]
    )
    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert document["stack"]["command"] is None and document["stack"]["mode"] == "testing"
    assert document["stack"]["advice"][0] == "stack prod stays in testing; in the way of enforce:"
    assert any("span 3 days" in line for line in document["stack"]["advice"])


def test_with_a_stack_already_in_enforce_failures_point_back_to_testing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enforce = tuple(line.replace("testing", "enforce") for line in CURRENT_POLICY)
    write_days(tmp_path / "mail", 2, policy=enforce, failures={"certificate-expired": 1})
    project = stack_dir(tmp_path, mode="enforce")
    argv = ["--project-dir", str(project), "reports", str(tmp_path / "mail"), "--stack", "prod", "--json"]
    status = main(argv)
    document = json.loads(capsys.readouterr().out)
    assert (
        status == 1 and document["stack"]["command"] == "scripts/pulumi config set mode testing --stack prod"
    )
    assert document["stack"]["advice"][0] == (
        "stack prod is in enforce and 2 sessions failed under it (certificate-expired 2): senders applying "
        "it did not deliver that mail"
    )
    # A command that runs as printed: verify with no domain and no stack is a usage error.
    assert "`.venv/bin/python -m mtasts verify --stack prod`" in document["stack"]["advice"][1]
    assert main([*argv, "--fail-on", "enforce"]) == 1  # refused mail fails the daily check too
    capsys.readouterr()


def test_with_a_stack_in_enforce_failures_only_under_testing_are_not_called_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Reports from before the switch: the senders applied testing and delivered. Going back to
    # testing would be the wrong advice; counting from the switch on is the right one.
    write_days(tmp_path / "mail", 2, failures={"certificate-expired": 1})
    project = stack_dir(tmp_path, mode="enforce")
    argv = ["--project-dir", str(project), "reports", str(tmp_path / "mail"), "--stack", "prod", "--json"]
    status = main(argv)
    document = json.loads(capsys.readouterr().out)
    advice = document["stack"]["advice"]
    assert status == 1 and document["stack"]["command"] is None
    assert advice[0] == (
        "stack prod is in enforce; 2 sessions failed under an sts policy (certificate-expired 2), none "
        "under one its senders reported in mode enforce, so these reports show no refused mail"
    )
    assert advice[-1].startswith("if they came before the switch to enforce, count again from the day after")
    assert "`.venv/bin/python -m mtasts verify --stack prod`" in advice[-1]
    assert document["domains"]["example.com"]["enforce_refused"] == 0
    assert main([*argv, "--fail-on", "enforce"]) == 1  # in enforce, any sts failure is a reason to look
    capsys.readouterr()


def test_reports_about_an_older_policy_are_flagged_against_the_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = ("version: STSv1", "mode: testing", "mx: mail.protonmail.ch", "max_age: 86400")
    write_days(tmp_path / "mail", 1, policy=old)
    write_days(tmp_path / "mail", 1, style="microsoft")
    project = stack_dir(tmp_path)
    argv = ["--project-dir", str(project), "reports", str(tmp_path / "mail"), "--stack", "prod"]
    main([*argv, "--json"])
    policies = json.loads(capsys.readouterr().out)["domains"]["example.com"]["policies"]
    assert {(p["policy"], p["current"]) for p in policies} == {
        ("sts mode testing, mx mail.protonmail.ch, max_age 86400", False),
        ("sts mode testing, mx mail.protonmail.ch, mailsec.protonmail.ch, max_age 604800", True),
    }
    main(argv)
    out = capsys.readouterr().out
    assert (
        "max_age 86400: 1 report(s), 100 successful, 0 failed  <- not the policy the stack serves now" in out
    )


def test_fail_on_enforce_ignores_testing_failures_and_rejected_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_days(tmp_path / "mail", 2, failures={"certificate-expired": 5})
    (tmp_path / "mail" / "junk.eml").write_bytes(b"Subject: hello\r\n\r\nnot a report\r\n")
    assert reports(capsys, str(tmp_path / "mail"))[0] == 1
    assert reports(capsys, str(tmp_path / "mail"), "--fail-on", "enforce")[0] == 0
    assert reports(capsys, str(tmp_path / "mail"), str(tmp_path / "gone"), "--fail-on", "enforce")[0] == 1


def test_a_rejected_input_is_listed_and_fails_the_run_while_the_rest_is_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_fortnight(tmp_path / "mail")
    (tmp_path / "mail" / "broken.json.gz").write_bytes(gz(make_report(START))[:40])
    status, document = as_json(capsys, str(tmp_path / "mail"))
    assert status == 1 and document["domains"]["example.com"]["reports"] == 28
    [rejected] = document["rejected"]
    assert rejected["path"].endswith("broken.json.gz") and "truncated" in rejected["reason"]
    assert set(rejected) == {"path", "message_id", "reason"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "no reports to read"),
        (["x", "--since", "01/10/2026"], "--since '01/10/2026' is not a date; expected YYYY-MM-DD"),
        (["x", "--min-days", "0"], "--min-days 0 is not accepted; expected 1 to 3650"),
        (["--imap", "https://host/INBOX"], "scheme 'https' is not accepted"),
        (["--imap", "imaps://user:secret@host/INBOX"], "must not carry the password"),
        (["--imap", "imaps://host/INBOX"], "names no user"),
        (["--imap", "imaps://user@host:99999/INBOX"], "is not a URL"),
        (["--imap", "imaps://user@host/INBOX"], "MTASTS_IMAP_PASSWORD"),
        (["x", "--html", "/nonexistent-folder/page.html"], "its folder does not exist"),
    ],
)
def test_usage_errors_exit_2_naming_the_problem(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MTASTS_IMAP_PASSWORD", raising=False)
    status, out, err = reports(capsys, *argv)
    assert status == 2 and message in err and out == ""
    assert "secret" not in err


def test_a_folder_as_the_page_is_refused_before_anything_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Once found only when the page was written, after every report (or a mailbox) was read.
    write_days(tmp_path / "mail", 1)
    (tmp_path / "pages").mkdir()
    status, out, err = reports(capsys, str(tmp_path / "mail"), "--html", str(tmp_path / "pages"))
    assert status == 2 and out == ""
    assert "is a folder: name the file to write the page to, e.g. --html tls-reports.html" in err
    assert list((tmp_path / "pages").iterdir()) == []


def test_an_unknown_stack_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_days(tmp_path / "mail", 1)
    status = main(["--project-dir", str(tmp_path), "reports", str(tmp_path / "mail"), "--stack", "nope"])
    assert status == 2 and "no stack file" in capsys.readouterr().err


def test_the_text_summary_names_failures_by_type_mx_and_sending_ip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_days(tmp_path / "mail", 1, failures={"certificate-host-mismatch": 2, "starttls-not-supported": 1})
    _, out, _ = reports(capsys, str(tmp_path / "mail"))
    assert "sessions: 100 successful, 3 failed" in out
    assert "failures by result type: certificate-host-mismatch 2, starttls-not-supported 1" in out
    assert "failures by receiving MX host: mail.protonmail.ch 3" in out
    assert "failures by sending IP: 192.0.2.25 3" in out


def test_failures_under_a_policy_the_stack_no_longer_serves_are_pointed_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = ("version: STSv1", "mode: testing", "mx: mail.protonmail.ch", "max_age: 86400")
    write_days(tmp_path / "mail", 2, policy=old, failures={"certificate-host-mismatch": 4})
    write_days(tmp_path / "mail", 2, style="microsoft")
    project = stack_dir(tmp_path)
    main(["--project-dir", str(project), "reports", str(tmp_path / "mail"), "--stack", "prod", "--json"])
    advice = json.loads(capsys.readouterr().out)["stack"]["advice"]
    assert advice[-1] == (
        "  (8 failed sessions under a policy the stack no longer serves: if the change fixed them, "
        "count from the day after it with --since)"
    )


def test_refused_mail_under_enforce_reads_as_not_safe_in_the_text_and_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enforce = tuple(line.replace("mode: testing", "mode: enforce") for line in CURRENT_POLICY)
    write_days(tmp_path / "mail", 1, failures={"certificate-expired": 4}, policy=enforce)
    page = tmp_path / "tls.html"
    status, out, _ = reports(capsys, str(tmp_path / "mail"), "--html", str(page))
    assert status == 1
    assert "enforce: not safe: 4 sessions failed under an sts policy (certificate-expired 4): " in out
    assert "so those senders did not deliver that mail" in out and "would not deliver" not in out
    assert "enforce: not safe: 4 sessions failed" in page.read_text()
    status, document = as_json(capsys, str(tmp_path / "mail"))
    entry = document["domains"]["example.com"]
    assert (status, entry["enforce_ready"], entry["enforce_refused"]) == (1, False, 4)


def test_each_reason_in_the_way_of_enforce_stands_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Joined by "; ", three reasons that hold semicolons of their own read as one sentence.
    write_days(tmp_path / "mail", 1, failures={"certificate-expired": 4})
    page = tmp_path / "tls.html"
    _, out, _ = reports(capsys, str(tmp_path / "mail"), "--html", str(page))
    verdict = [line for line in out.splitlines() if line.startswith(("  enforce:", "    also:"))]
    assert len(verdict) == 3, out
    assert verdict[0].startswith("  enforce: not yet: the reports under an sts policy span 1 day")
    assert verdict[1].startswith("    also: 1 organization reported applying the sts policy")
    assert verdict[2].startswith("    also: 4 sessions failed under an sts policy (certificate-expired 4)")
    html = page.read_text()
    assert html.count("<li>also: ") == 2 and "(--min-days)</p>" in html


def test_with_a_stack_in_enforce_reports_that_never_saw_the_policy_are_no_comfort(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "no session failed under an sts policy" was true and misleading: no sender saw one.
    write_days(tmp_path / "mail", 3, policy_type="no-policy-found")
    project = stack_dir(tmp_path, mode="enforce")
    argv = ["--project-dir", str(project), "reports", str(tmp_path / "mail"), "--stack", "prod", "--json"]
    main(argv)
    advice = json.loads(capsys.readouterr().out)["stack"]["advice"]
    assert advice[0].startswith("stack prod is in enforce, but no sender reported applying an sts policy")
    assert "`.venv/bin/python -m mtasts verify --stack prod`" in advice[0]
    assert not any("already in enforce" in line for line in advice)
