from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from breakglass.models import AwsAccount, Drill, Grant, MfaDevice, RootCredential
from breakglass.people_models import phone_of
from ledger import chain
from portal import policy

pytestmark = pytest.mark.django_db


def run() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_has_eight_accounts_in_both_modes_and_every_device_kind() -> None:
    run()
    assert AwsAccount.objects.count() == 8
    assert set(AwsAccount.objects.values_list("governance_mode", flat=True)) == {"classic", "centralised"}
    assert set(MfaDevice.objects.values_list("kind", flat=True)) == {"fido", "hardware_totp", "virtual"}
    assert set(RootCredential.objects.values_list("storage", flat=True)) == {"portal", "physical", "none"}
    assert chain.verify().intact


def test_seeding_twice_changes_nothing_but_the_printed_passwords() -> None:
    first = run()
    counts = (AwsAccount.objects.count(), MfaDevice.objects.count(), Grant.objects.count())
    second = run()
    assert (AwsAccount.objects.count(), MfaDevice.objects.count(), Grant.objects.count()) == counts
    assert first != second
    # One drill announced, not one per seeding.
    assert Drill.objects.get().request.account.name == "log-archive"


def test_the_printed_passwords_sign_the_personas_in() -> None:
    output = run()
    users = get_user_model().objects.filter(username__in=["rita.requester", "ada.admin", "audrey.auditor"])
    for user in users:
        line = next(line for line in output.splitlines() if line.strip().startswith(user.username))
        password = line.split()[1]
        assert authenticate(username=user.username, password=password) == user
        assert policy.roles(user)
    for persona in ("ada.admin", "audrey.auditor", "carl.custodian"):
        assert persona in output


def test_every_persona_has_mfa_so_they_can_use_the_portal_at_once() -> None:
    printed = run()
    usernames = [
        "rita.requester",
        "alan.approver",
        "anna.approver",
        "carl.custodian",
        "audrey.auditor",
        "ada.admin",
    ]
    for username in usernames:
        user = get_user_model().objects.get(username=username)
        assert policy.may_use_portal(user), username
    # The requester too gets a printed TOTP secret (issue 8, item 1).
    rita = next(line for line in printed.splitlines() if "rita.requester" in line)
    assert not rita.rstrip().endswith(" -")


def test_the_demo_custodians_and_approvers_have_fictional_phone_numbers() -> None:
    run()
    people = get_user_model().objects.select_related("profile")
    assert phone_of(people.get(username="carl.custodian")) == "+1 555 0101"
    assert phone_of(people.get(username="ada.admin")) == "+1 555 0100"
    assert phone_of(people.get(username="alan.approver")).startswith("+1 555 01")
